"""A real federated job: a SuperLink and three SuperNodes as processes (Flower deployment
engine), behind the training red lines, with ledgered rounds, coalition utilities by retraining,
the model as a data product, and a settlement of the job. ~30-60 s on two cores."""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from ingest.synthetic.samples import json_document
from kgservice.auth import service as principals
from kgservice.auth.models import Principal
from kgservice.decisions.engine import DecisionEngine
from kgservice.graph.database import Graph
from kgservice.ledger.service import Ledger
from kgservice.records.protection import load_protector
from kgservice.settings import Settings
from kgservice.training import service
from kgservice.training.schemas import TrainingJobIn, TrainingJobOut
from tests.integration.conftest import bearer
from tests.integration.ledgerkit import run, verify

pytestmark = pytest.mark.anyio
SYSTEMS = {"hosp-a": "hosp-a EHR", "clinic-b": "clinic-b records", "clinic-c": "clinic-c records"}
JOB = {
    "institutions": ["hosp-a", "clinic-b", "clinic-c"],
    "requester": "hosp-a",
    "legal_basis": "contract",
    "rounds": 2,
}


async def submit(client: httpx.AsyncClient, keys: dict[str, str]) -> None:
    rng = random.Random(4)
    for institution, n in (("hosp-a", 80), ("clinic-b", 30), ("clinic-c", 30)):
        body = json.dumps(json_document(rng, n), ensure_ascii=False).encode()
        r = await client.post(
            "/v1/records",
            content=body,
            headers={**bearer(keys[SYSTEMS[institution]]), "Content-Type": "application/json"},
        )
        assert r.status_code == 201, r.text


async def grant_training(client: httpx.AsyncClient, keys: dict[str, str]) -> None:
    for institution, system in SYSTEMS.items():
        grant = {
            "right": "use",
            "holder": institution,
            "grantee": "alliance",
            "purposes": ["model_training"],
            "categories": ["health_status"],
            "max_level": 3,
            "valid_from": "2026-01-01T00:00:00+08:00",
        }
        r = await client.post("/v1/grants", json=grant, headers=bearer(keys[system]))
        assert r.status_code == 201, r.text


def flower_processes() -> list[str]:
    """Live Flower processes on this host (zombies excluded)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
            state = (cmdline.parent / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z" and any(b"flower-super" in a or b"flwr-" in a for a in argv[:2]):
            found.append(b" ".join(argv).decode(errors="replace"))
    return found


async def wait(client: httpx.AsyncClient, key: str, job: str, seconds: float) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        r = await client.get(f"/v1/training-jobs/{job}", headers=bearer(key))
        body: dict[str, Any] = r.json()
        if body["status"] != "running":
            return body
        await asyncio.sleep(1.0)
    raise AssertionError(f"job {job} still running after {seconds} s")


async def test_training_needs_use_rights_then_runs_federated_and_settles(
    client: httpx.AsyncClient,
    keys: dict[str, str],
    graph: Graph,
    ledger: Ledger,
    settings: Settings,
) -> None:
    operator = bearer(keys["alliance operator"])
    await submit(client, keys)
    refused = await client.post("/v1/training-jobs", json=JOB, headers=operator)
    assert refused.status_code == 422
    assert refused.json()["error"] == "training_refused"
    rules = {r["rule"] for d in refused.json()["decisions"] for r in d["reasons"]}
    assert "RL-USE-GRANT" in rules

    await grant_training(client, keys)
    started = await client.post("/v1/training-jobs", json=JOB, headers=operator)
    assert started.status_code == 202, started.text
    job = started.json()
    assert job["status"] == "running"
    assert job["valuation"] == "retraining"  # three institutions: every coalition is retrained
    assert len(job["decisions"]) == 3

    done = await wait(client, keys["external auditor"], job["id"], seconds=240)
    assert done["status"] == "completed", done.get("error")
    assert [h["round"] for h in done["history"]] == [1, 2]
    assert all(h["participants"] == ["clinic-b", "clinic-c", "hosp-a"] for h in done["history"])
    # v(S) for the empty and all seven non-empty coalitions, as validation accuracy in %.
    utilities = done["utilities"]
    assert len(utilities) == 8
    assert all(0 <= v <= 100 for v in utilities.values())
    # The samples' HbA1c follows their fasting glucose: the federated model beats no model.
    assert utilities["clinic-b,clinic-c,hosp-a"] > utilities[""]
    assert done["examples"] == {"hosp-a": 80, "clinic-b": 30, "clinic-c": 30}
    assert done["history"][-1]["auc"] is not None
    # The institutions' feature files are gone once the job is done; logs and results stay.
    job_dir = settings.training.directory / job["id"]
    assert not list(job_dir.rglob("*.npz"))
    assert (job_dir / "result.json").exists()

    # No raw row crossed a node boundary: every message the coordinator received held only
    # model-sized vectors (4 features + intercept) and counts — never an array of rows.
    messages = done["messages"]
    assert len(messages) == 3 + 2 * 3  # who-are-you, then two rounds, from three nodes
    for m in messages:
        assert all(shapes == [[5]] for shapes in m["arrays"].values()), m
        assert set(m["metrics"]) <= {"metrics"}
        assert all(
            k == "examples" or k.startswith("loss-") for k in m["metrics"].get("metrics", [])
        )
        assert m["configs"] in ({}, {"about": ["examples", "institution"]})
    trained = [m for m in messages if m["arrays"]]
    assert {len(m["arrays"]) for m in trained} == {4}  # each node: the 4 coalitions it is in

    # Every round is on the ledger with each institution's update digest; raw data never are.
    anyone = bearer(keys["external auditor"])
    round_entry = await client.get(
        f"/v1/ledger/entries/{done['history'][0]['ledger_seq']}", headers=anyone
    )
    payload = round_entry.json()["entry"]["payload"]
    assert round_entry.json()["entry"]["type"] == "training.round"
    assert {u["institution"] for u in payload["updates"]} == set(SYSTEMS)
    assert all(u["digest"].startswith("sha256:") for u in payload["updates"])

    # The model is a data product whose operation right the alliance holds from every holder.
    grants = await client.get("/v1/grants", headers=bearer(keys["demo admin"]))
    operation = [g for g in grants.json() if g["right"] == "operation"]
    assert {g["holder"] for g in operation} == set(SYSTEMS)
    assert {g["product"] for g in operation} == {done["product"]}

    settled = await client.post(
        f"/v1/training-jobs/{job['id']}/settlement", json={"pool": 1000}, headers=operator
    )
    assert settled.status_code == 201, settled.text
    assert settled.json()["valuation"] == "retraining"
    assert settled.json()["job"] == job["id"]
    assert sum(settled.json()["points"].values()) == 1000
    assert (await verify(graph, ledger.signer)).ok


async def ready_operator(
    client: httpx.AsyncClient, keys: dict[str, str], graph: Graph
) -> Principal:
    """Records and training use rights in place; the operator who starts jobs."""
    await submit(client, keys)
    await grant_training(client, keys)
    operator = await graph.read(principals.authenticate, keys["alliance operator"])
    assert operator is not None
    return operator


async def start_job(
    graph: Graph, ledger: Ledger, settings: Settings, operator: Principal
) -> TrainingJobOut:
    """A recorded job (decisions passed), not yet run: the test runs or abandons it."""
    return await service.start(
        graph,
        ledger,
        DecisionEngine(graph, ledger, settings.decisions),
        settings.training,
        operator,
        TrainingJobIn.model_validate(JOB),
    )


async def test_a_stopping_service_stops_the_job_and_every_process(
    client: httpx.AsyncClient,
    keys: dict[str, str],
    graph: Graph,
    ledger: Ledger,
    settings: Settings,
) -> None:
    operator = await ready_operator(client, keys, graph)
    job = await start_job(graph, ledger, settings, operator)
    stop = threading.Event()
    stop.set()  # as the lifespan does at shutdown
    await service.run(
        graph, ledger, settings.training, operator.id, job.id, 0.3, stop, load_protector(settings)
    )
    failed = await graph.read(service.get, job.id)
    assert failed.status == "failed"
    assert failed.error == "the service stopped before the job finished"
    assert flower_processes() == []
    assert (await verify(graph, ledger.signer)).ok


async def test_jobs_orphaned_by_a_dead_process_are_failed_at_start_up(
    client: httpx.AsyncClient,
    keys: dict[str, str],
    graph: Graph,
    ledger: Ledger,
    settings: Settings,
) -> None:
    operator = await ready_operator(client, keys, graph)
    stale = await start_job(graph, ledger, settings, operator)
    alive = await start_job(graph, ledger, settings, operator)
    # The first one's process died ten minutes ago; the second one's still touches it.
    await run(
        graph,
        "MATCH (j:TrainingJob {id: $id}) SET j.heartbeat = '2026-01-01T00:00:00Z'",
        id=stale.id,
    )
    assert await service.reap_orphans(graph, ledger) == [stale.id]
    assert (await graph.read(service.get, stale.id)).status == "failed"
    assert (await graph.read(service.get, alive.id)).status == "running"
    assert (await verify(graph, ledger.signer)).ok
