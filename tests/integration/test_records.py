"""Submitting and reading records against the real Neo4j: receipts, idempotency, refusals that
write nothing, protection at rest, institution scope."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from typing import Any

import httpx
import pytest
from neo4j import AsyncManagedTransaction

from ingest.readers.json_v1 import read as read_json
from kgservice.app import create_app
from kgservice.auth import service as principals
from kgservice.demo import seed
from kgservice.graph.database import Graph
from kgservice.ledger.canonical import utc_now
from kgservice.ledger.service import Ledger
from kgservice.records import service
from kgservice.records.checking import Checker
from kgservice.records.protection import load_protector
from kgservice.settings import ApiSettings, Settings
from tests import REPO_ROOT
from tests.integration.conftest import bearer
from tests.integration.ledgerkit import verify

pytestmark = pytest.mark.anyio
SAMPLES = REPO_ROOT / "samples"
UPLOADS = {
    "records.json": "application/json",
    "bundle.fhir.json": "application/fhir+json",
    "sinocare.csv": "text/csv",
    "accuchek.csv": "text/csv",
    "yuwell.xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


async def post(
    client: httpx.AsyncClient,
    key: str,
    name: str,
    data: bytes | None = None,
    content_type: str | None = None,
) -> httpx.Response:
    body = data if data is not None else (SAMPLES / name).read_bytes()
    headers = {**bearer(key), "Content-Type": content_type or UPLOADS[name], "X-Source-Name": name}
    return await client.post("/v1/records", content=body, headers=headers)


async def checkpoint(client: httpx.AsyncClient, keys: dict[str, str]) -> Any:
    r = await client.get("/v1/ledger/checkpoint", headers=bearer(keys["demo admin"]))
    return r.json()["checkpoint"]


async def count(graph: Graph, label: str) -> int:
    async with graph.driver.session() as s:
        record = await (await s.run(f"MATCH (n:{label}) RETURN count(n) AS n")).single()
    return int(record["n"]) if record else 0


@pytest.mark.parametrize("name", UPLOADS)
async def test_every_sample_is_accepted_graded_and_ledgered(
    client: httpx.AsyncClient, keys: dict[str, str], graph: Graph, ledger: Ledger, name: str
) -> None:
    r = await post(client, keys["clinic-b records"], name)
    assert r.status_code == 201, r.text
    receipt = r.json()
    assert receipt["institution"] == "clinic-b"
    assert receipt["duplicate"] is False
    fields = [f for rec in receipt["records"] for f in rec["fields"]]
    assert fields
    assert all(1 <= f["level"] <= 5 and f["category"] and f["tier"] for f in fields)
    assert {f["tier"] for f in fields if f["kind"] in ("PersonName", "PhoneNumber")} <= {
        "CorePrivacy"
    }
    assert receipt["contribution"]["records"] == len(receipt["records"])
    entry = await client.get(
        f"/v1/ledger/entries/{receipt['ledger']['seq']}", headers=bearer(keys["external auditor"])
    )
    assert entry.json()["entry"]["type"] == "records.ingested"
    assert entry.json()["entry"]["payload"]["source_sha256"] == receipt["sha256"]
    assert (await verify(graph, ledger.signer)).ok


async def test_resubmission_returns_the_original_receipt(
    client: httpx.AsyncClient, keys: dict[str, str], graph: Graph
) -> None:
    first = await post(client, keys["clinic-b records"], "sinocare.csv")
    fields_before = await count(graph, "Field")
    again = await post(client, keys["clinic-b records"], "sinocare.csv")
    assert again.status_code == 200
    assert again.json() == {**first.json(), "duplicate": True}
    assert await count(graph, "Field") == fields_before
    # The same bytes from another institution are that institution's own submission.
    other = await post(client, keys["clinic-c records"], "sinocare.csv")
    assert other.status_code == 201


async def test_the_same_file_submitted_twice_at_once_is_stored_once(
    graph: Graph, ledger: Ledger, keys: dict[str, str], checker: Checker, settings: Settings
) -> None:
    """A system that sends a file again while its first attempt is still being stored (it timed
    out, say): the second attempt waits for the first and answers with its receipt."""
    principal = await graph.read(principals.authenticate, keys["clinic-b records"])
    assert principal is not None
    data = (SAMPLES / "sinocare.csv").read_bytes()
    prepared = await checker.prepare(
        data, "csv", "s.csv", "clinic-b", load_protector(settings), utc_now()
    )
    created, release = asyncio.Event(), asyncio.Event()

    async def first_held_open(tx: AsyncManagedTransaction) -> service.Stored:
        stored = await service.submit(
            tx, ledger, principal, "clinic-b", prepared, "csv", "s.csv", len(data)
        )
        created.set()
        await release.wait()  # not committed until the second attempt is under way
        return stored

    first = asyncio.create_task(graph.write(first_held_open))
    await created.wait()
    second = asyncio.create_task(
        graph.write(
            service.submit, ledger, principal, "clinic-b", prepared, "csv", "s.csv", len(data)
        )
    )
    await asyncio.sleep(0.5)
    assert not second.done()  # creating the same source, Neo4j holds it until the first ends
    release.set()
    original, again = await first, await second
    assert (original.duplicate, again.duplicate) == (False, True)
    assert json.loads(again.receipt) == {**json.loads(original.receipt), "duplicate": True}
    assert await count(graph, "Source") == 1


async def test_a_violation_refuses_the_whole_file_and_writes_nothing(
    client: httpx.AsyncClient, keys: dict[str, str], graph: Graph
) -> None:
    doc = json.loads((SAMPLES / "records.json").read_text("utf-8"))
    doc["records"][2]["observations"][0]["value"] = "250"
    doc["records"][3]["patient"]["resident_id"] = "110105194912310021"
    size_before = await checkpoint(client, keys)
    r = await post(client, keys["clinic-b records"], "records.json", json.dumps(doc).encode())
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "record_rules_violated"
    got = {(v["location"], v["rule"]) for v in body["violations"]}
    assert got == {
        ("records.json records[2].observations[0]", "R-GLUCOSE"),
        ("records.json records[3].patient.resident_id", "R-RESIDENT-ID"),
    }
    assert all(v["message_zh"] and v["message_en"] for v in body["violations"])
    for label in ("Source", "Record", "Field", "Patient", "Contribution"):
        assert await count(graph, label) == 0, label
    size_after = await checkpoint(client, keys)
    assert size_after == size_before


@pytest.mark.parametrize(
    ("data", "content_type", "status", "error", "names"),
    [
        (
            b'{"records": [{"patient": {"nmae": "x"}}]}',
            "application/json",
            400,
            "unreadable_input",
            "records[0].patient.nmae",
        ),
        (
            b"PK\x03\x04broken",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            400,
            "unreadable_input",
            "not a readable XLSX",
        ),
        (
            "用户编号,测量时间\nU1,2026/11/01 08:00\n".encode("gb18030"),
            "text/csv",
            400,
            "unreadable_input",
            "missing columns",
        ),
        (
            b'{"resourceType": "Bundle", "type": "collection", "entry": [{"resource": '
            b'{"resourceType": "Foo"}}]}',
            "application/fhir+json",
            400,
            "unreadable_input",
            'Bundle.entry.0.resource.resourceType: "Foo" is not a FHIR R4 resource type',
        ),
        (b"GIF89a", "image/gif", 415, "unsupported_media_type", "image/gif"),
        (b"", "application/json", 400, "unreadable_input", "empty"),
    ],
)
async def test_unreadable_input_is_a_clear_4xx(
    client: httpx.AsyncClient,
    keys: dict[str, str],
    graph: Graph,
    data: bytes,
    content_type: str,
    status: int,
    error: str,
    names: str,
) -> None:
    r = await post(client, keys["clinic-b records"], "upload", data, content_type)
    assert r.status_code == status
    assert r.json()["error"] == error
    assert names in r.json()["detail"]
    assert await count(graph, "Source") == 0


async def test_only_institution_systems_submit(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    for who in ("hosp-a endocrinologist", "alliance analyst", "demo admin"):
        r = await post(client, keys[who], "records.json")
        assert r.status_code == 403, who


def _identifiers() -> set[str]:
    """Every identifier value in the samples, as the pipeline normalises them."""
    doc = read_json((SAMPLES / "records.json").read_bytes(), "records.json")
    out = set()
    for subject in doc.subjects:
        for d in subject.data:
            if d.kind in ("PersonName", "ResidentId", "PhoneNumber", "Address"):
                out.add(str(d.value))
    return out


async def test_no_plaintext_identifier_anywhere_in_neo4j(
    client: httpx.AsyncClient, keys: dict[str, str], graph: Graph
) -> None:
    for name in UPLOADS:
        assert (await post(client, keys["clinic-b records"], name)).status_code == 201
    secrets = _identifiers()
    bundle = json.loads((SAMPLES / "bundle.fhir.json").read_text("utf-8"))
    for entry in bundle["entry"]:
        res: dict[str, Any] = entry["resource"]
        if res["resourceType"] == "Patient":
            secrets |= {
                res["name"][0]["text"],
                res["address"][0]["text"],
                res["identifier"][0]["value"],
            }
    assert len(secrets) >= 12
    async with graph.driver.session() as s:
        rows = await (await s.run("MATCH (n) RETURN properties(n) AS p")).data()
    strings = [str(v) for row in rows for v in row["p"].values()]
    leaks = {x for x in secrets for value in strings if x in value}
    assert leaks == set()
    # ... and the holding institution still reads them back.
    receipt = (await post(client, keys["clinic-c records"], "records.json")).json()
    record = await client.get(
        f"/v1/records/{receipt['records'][0]['id']}", headers=bearer(keys["clinic-c records"])
    )
    values = {f["value"] for f in record.json()["fields"]}
    assert values & secrets


async def test_reading_records_respects_institution_and_role(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    receipt = (await post(client, keys["clinic-b records"], "records.json")).json()
    rid = receipt["records"][0]["id"]
    own = (await client.get(f"/v1/records/{rid}", headers=bearer(keys["clinic-b records"]))).json()
    name = next(f for f in own["fields"] if f["kind"] == "PersonName")
    assert name["protected"] is True
    assert name["value"]
    assert name["pseudonym"].startswith("ps_")
    assert own["source"]["sha256"] == receipt["sha256"]
    assert own["source"]["ledger_seq"] == receipt["ledger"]["seq"]
    other = await client.get(f"/v1/records/{rid}", headers=bearer(keys["hosp-a EHR"]))
    assert other.status_code == 403
    assert "clinic-b" not in other.text
    analyst = (
        await client.get(f"/v1/records/{rid}", headers=bearer(keys["alliance analyst"]))
    ).json()
    name = next(f for f in analyst["fields"] if f["kind"] == "PersonName")
    assert name["value"] is None
    glucose = next(f for f in analyst["fields"] if f["kind"] == "FastingGlucose")
    assert glucose["value"] is not None
    missing = await client.get("/v1/records/rec_nope", headers=bearer(keys["demo admin"]))
    assert missing.status_code == 404


async def test_one_patient_links_across_sources_by_pseudonym(
    client: httpx.AsyncClient, keys: dict[str, str], graph: Graph
) -> None:
    """The same resident ID submitted by two clinics is one Patient node."""
    doc = json.loads((SAMPLES / "records.json").read_text("utf-8"))
    one = {"records": [doc["records"][0]]}
    other = {"records": [{**doc["records"][0], "observations": []}]}
    await post(
        client, keys["clinic-b records"], "a.json", json.dumps(one).encode(), "application/json"
    )
    await post(client, keys["hosp-a EHR"], "b.json", json.dumps(other).encode(), "application/json")
    async with graph.driver.session() as s:
        rows = await (
            await s.run(
                "MATCH (p:Patient)<-[:ABOUT]-(r:Record) RETURN p.pseudonym AS p, "
                "collect(DISTINCT r.institution) AS inst"
            )
        ).data()
    assert len(rows) == 1
    assert sorted(rows[0]["inst"]) == ["clinic-b", "hosp-a"]


async def test_contribution_log(
    client: httpx.AsyncClient, keys: dict[str, str], graph: Graph
) -> None:
    receipt = (await post(client, keys["clinic-b records"], "records.json")).json()
    c = receipt["contribution"]
    assert c["records"] == 4
    assert c["completeness"] == 1.0
    async with graph.driver.session() as s:
        row = await (
            await s.run(
                "MATCH (c:Contribution)-[:FOR]->(s:Source) RETURN c {.*} AS c, s.sha256 AS sha"
            )
        ).single()
    assert row is not None
    assert row["sha"] == receipt["sha256"]
    assert row["c"]["institution"] == "clinic-b"
    assert row["c"]["records"] == 4


async def test_too_many_records_in_one_submission(
    settings: Settings, graph: Graph, ledger: Ledger, checker: Checker
) -> None:
    cfg = settings.model_copy(update={"api": ApiSettings(max_records_per_submission=3)})
    app = create_app(cfg, checker)
    keys = await seed(graph, ledger, "test", {})
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c,
    ):
        r = await post(c, keys["clinic-b records"], "records.json")
    assert r.status_code == 413
    assert r.json()["error"] == "too_many_records"
    assert await count(graph, "Source") == 0


async def test_a_dead_checking_process_costs_one_503_and_writes_nothing(
    settings: Settings, graph: Graph, ledger: Ledger
) -> None:
    """Files are checked in a worker process; if it dies, that submission gets a 503 naming the
    file, nothing is stored, and the next submission starts a new worker."""
    own = Checker()  # not the shared one: this test kills its process
    app = create_app(settings, own)
    keys = await seed(graph, ledger, "test", {})
    key = keys["clinic-b records"]
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c,
        ):
            pid = await own.worker_pid()
            assert pid != os.getpid()
            os.kill(pid, signal.SIGKILL)
            r = await post(c, key, "records.json")
            assert r.status_code == 503, r.text
            assert r.json()["error"] == "checker_unavailable"
            assert "records.json" in r.json()["detail"]
            assert await count(graph, "Source") == 0
            r = await post(c, key, "records.json")
            assert r.status_code == 201, r.text
            assert await own.worker_pid() not in (pid, os.getpid())
    finally:
        own.close()
