"""Who may call what: the full matrix of endpoints × roles, plus keys and institution scope."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from kgservice.auth.roles import Role
from kgservice.demo import PRINCIPALS
from kgservice.graph.database import Graph
from tests import REPO_ROOT
from tests.integration.conftest import bearer

pytestmark = pytest.mark.anyio

ALL = frozenset(Role)
ROLE_OF = {p.name: p.role for p in PRINCIPALS}
INSTITUTION_OF = {p.name: p.institution for p in PRINCIPALS}


SAMPLE_RECORDS = json.loads((REPO_ROOT / "samples" / "records.json").read_text("utf-8"))
CYPHER = {"query": "MATCH (i:Institution) RETURN count(i) AS n"}
CONSENT = {
    "patient": {"kind": "PhoneNumber", "value": "13812345678"},
    "purposes": ["research"],
    "categories": ["health_status"],
    "separate": False,
    "valid_from": "2026-01-01T00:00:00+08:00",
}
GRANT = {
    "right": "use",
    "holder": "hosp-a",
    "grantee": "clinic-b",
    "purposes": ["treatment"],
    "categories": ["health_status"],
    "max_level": 3,
    "valid_from": "2026-01-01T00:00:00+08:00",
}
LAX_RULES = (
    (REPO_ROOT / "shapes" / "redlines.ttl")
    .read_text("utf-8")
    .replace("sh:maxInclusive 3 ]", "sh:maxInclusive 4 ]")
)
REVIEW_DECISION = {"outcome": "uphold", "reason": "the emergency access was justified"}
SEED_GAME = {
    "players": ["hosp-a", "clinic-b", "clinic-c"],
    "values": {
        "": 0,
        "hosp-a": 50,
        "clinic-b": 10,
        "clinic-c": 10,
        "hosp-a,clinic-b": 85,
        "hosp-a,clinic-c": 65,
        "clinic-b,clinic-c": 25,
        "hosp-a,clinic-b,clinic-c": 100,
    },
}
SETTLEMENT = {"game": SEED_GAME, "pool": 1000, "valuation": "given"}
ITEM = {
    "id": "consult-hosp-a",
    "name_zh": "三甲医院会诊配额",
    "name_en": "Consultation quota",
    "provider": "hosp-a",
    "unit": "consultation",
    "price": 100,
}
TRAINING = {
    "institutions": ["hosp-a", "clinic-b"],
    "requester": "hosp-a",
    "legal_basis": "contract",
}
DECISION = {
    "kind": "access",
    "purpose": "treatment",
    "legal_basis": "contract",
    "holder": "hosp-a",
    "categories": ["health_status"],
    "max_level": 3,
}


Body = dict[str, Any] | str | None


def _matrix() -> list[tuple[str, str, Body, frozenset[Role], int]]:
    """(method, path, json body, roles allowed, success status)."""
    return [
        ("GET", "/v1/whoami", None, ALL, 200),
        ("GET", "/v1/institutions", None, ALL, 200),
        (
            "POST",
            "/v1/institutions",
            {"id": "clinic-new", "name": "新社区", "tier": "community_health_centre"},
            frozenset({Role.admin}),
            201,
        ),
        ("GET", "/v1/principals", None, frozenset({Role.admin}), 200),
        ("POST", "/v1/principals", {"name": "x", "role": "analyst"}, frozenset({Role.admin}), 201),
        ("DELETE", "/v1/principals/{victim}", None, frozenset({Role.admin}), 200),
        ("GET", "/v1/ledger/checkpoint", None, ALL, 200),
        ("GET", "/v1/ledger/entries/{alliance_entry}", None, ALL, 200),
        ("GET", "/v1/ledger/consistency?from=1", None, ALL, 200),
        ("POST", "/v1/records", SAMPLE_RECORDS, frozenset({Role.institution_system}), 201),
        # A clinic-b record: principals bound to another institution get 403 (scope).
        ("GET", "/v1/records/{clinic_b_record}", None, ALL, 200),
        ("POST", "/v1/cypher", CYPHER, frozenset({Role.analyst, Role.auditor, Role.admin}), 200),
        ("POST", "/v1/consents", CONSENT, frozenset({Role.institution_system}), 201),
        # A clinic-b consent: other institutions' systems get 403 (scope).
        (
            "DELETE",
            "/v1/consents/{clinic_b_consent}",
            None,
            frozenset({Role.institution_system}),
            200,
        ),
        ("POST", "/v1/grants", GRANT, frozenset({Role.institution_system, Role.admin}), 201),
        ("GET", "/v1/grants", None, ALL, 200),
        (
            "DELETE",
            "/v1/grants/{hosp_a_grant}",
            None,
            frozenset({Role.institution_system, Role.admin}),
            200,
        ),
        ("GET", "/v1/reviews", None, frozenset({Role.reviewer, Role.auditor, Role.admin}), 200),
        ("POST", "/v1/reviews/{open_review}/claim", None, frozenset({Role.reviewer}), 200),
        (
            "POST",
            "/v1/reviews/{claimed_review}/decide",
            REVIEW_DECISION,
            frozenset({Role.reviewer}),
            200,
        ),
        ("POST", "/v1/rulesets", LAX_RULES, frozenset({Role.steward}), 201),
        (
            "POST",
            "/v1/rulesets/{candidate}/approve",
            None,
            frozenset({Role.steward, Role.reviewer}),
            200,
        ),
        (
            "POST",
            "/v1/decisions",
            DECISION,
            frozenset({Role.requester, Role.institution_system, Role.operator, Role.admin}),
            200,
        ),
        ("POST", "/v1/settlements/shapley", SEED_GAME, ALL, 200),
        ("POST", "/v1/settlements", SETTLEMENT, frozenset({Role.operator, Role.admin}), 201),
        ("GET", "/v1/settlements/{settlement}", None, ALL, 200),
        ("POST", "/v1/settlements/uploads", None, frozenset({Role.operator, Role.admin}), 200),
        ("GET", "/v1/catalogue", None, ALL, 200),
        ("POST", "/v1/catalogue", ITEM, frozenset({Role.operator, Role.admin}), 201),
        # The caller's own institution's points (settled and priced beforehand).
        (
            "POST",
            "/v1/redemptions",
            {"item": "consult-hosp-a"},
            frozenset({Role.institution_system, Role.requester}),
            201,
        ),
        # clinic-b's points: principals bound to another institution get 403 (scope).
        ("GET", "/v1/points/{clinic_b}", None, ALL, 200),
        ("GET", "/v1/points/{clinic_b}/history", None, ALL, 200),
        # Allowed roles reach the red lines, which refuse: no use grants for training exist.
        ("POST", "/v1/training-jobs", TRAINING, frozenset({Role.operator, Role.admin}), 422),
        # Allowed roles reach the lookup: there is no such job.
        (
            "GET",
            "/v1/training-jobs/job_none",
            None,
            frozenset({Role.operator, Role.admin, Role.auditor}),
            404,
        ),
        (
            "POST",
            "/v1/training-jobs/job_none/settlement",
            {"pool": 10},
            frozenset({Role.operator, Role.admin}),
            404,
        ),
    ]


MATRIX = _matrix()
PUBLIC = {"/v1/health", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


async def test_every_route_is_in_the_matrix(app: FastAPI) -> None:
    covered = {(m, p.split("?")[0]) for m, p, *_ in MATRIX}
    for route in app.routes:
        if not isinstance(route, APIRoute) or route.path in PUBLIC:
            continue
        path = route.path.replace("{principal_id}", "{victim}").replace("{seq}", "{alliance_entry}")
        for method in (route.methods or set()) - {"HEAD"}:
            assert (method, path) in covered, f"{method} {route.path} has no auth-matrix row"


async def _send(
    client: httpx.AsyncClient, method: str, path: str, body: Body, headers: dict[str, str]
) -> httpx.Response:
    if isinstance(body, str):  # a Turtle rule set
        return await client.request(method, path, content=body.encode(), headers=headers)
    return await client.request(method, path, json=body, headers=headers)


async def _victim(client: httpx.AsyncClient, keys: dict[str, str]) -> str:
    r = await client.post(
        "/v1/principals",
        json={"name": "victim", "role": "auditor"},
        headers=bearer(keys["demo admin"]),
    )
    assert r.status_code == 201
    return str(r.json()["principal"]["id"])


async def _clinic_b_record(client: httpx.AsyncClient, keys: dict[str, str]) -> str:
    r = await client.post(
        "/v1/records", json=SAMPLE_RECORDS, headers=bearer(keys["clinic-b records"])
    )
    assert r.status_code == 201, r.text
    return str(r.json()["records"][0]["id"])


async def _alliance_entry(client: httpx.AsyncClient, keys: dict[str, str]) -> int:
    """Seq of a ledger entry that belongs to no institution (a principal.created for admin)."""
    r = await client.get("/v1/ledger/checkpoint", headers=bearer(keys["demo admin"]))
    for seq in range(r.json()["checkpoint"]["size"]):
        e = await client.get(f"/v1/ledger/entries/{seq}", headers=bearer(keys["demo admin"]))
        if e.json()["entry"]["institution"] is None:
            return seq
    raise AssertionError("no alliance-wide entry")


@pytest.mark.parametrize("name", [p.name for p in PRINCIPALS])
@pytest.mark.parametrize(("method", "path", "body", "allowed", "ok"), MATRIX)
async def test_role_matrix(
    client: httpx.AsyncClient,
    keys: dict[str, str],
    name: str,
    method: str,
    path: str,
    body: Body,
    allowed: frozenset[Role],
    ok: int,
) -> None:
    if "{victim}" in path:
        path = path.replace("{victim}", await _victim(client, keys))
    if "{alliance_entry}" in path:
        path = path.replace("{alliance_entry}", str(await _alliance_entry(client, keys)))
    scoped_to = None
    if "{clinic_b_record}" in path:
        path = path.replace("{clinic_b_record}", await _clinic_b_record(client, keys))
        scoped_to = "clinic-b"
    if "{clinic_b_consent}" in path:
        made = await client.post(
            "/v1/consents", json=CONSENT, headers=bearer(keys["clinic-b records"])
        )
        path = path.replace("{clinic_b_consent}", made.json()["consent"]["id"])
        scoped_to = "clinic-b"
    if "{open_review}" in path or "{claimed_review}" in path:
        emergency = {**DECISION, "legal_basis": "emergency"}
        made = await client.post(
            "/v1/decisions", json=emergency, headers=bearer(keys["hosp-a endocrinologist"])
        )
        review = made.json()["review"]
        if "{claimed_review}" in path and ROLE_OF[name] is Role.reviewer:
            await client.post(f"/v1/reviews/{review}/claim", headers=bearer(keys[name]))
        path = path.replace("{open_review}", review).replace("{claimed_review}", review)
    if "{candidate}" in path:
        made = await client.post(
            "/v1/rulesets",
            content=LAX_RULES.encode(),
            headers=bearer(keys["alliance data steward"]),
        )
        path = path.replace("{candidate}", made.json()["ruleset"]["hash"])
    if method == "POST" and path == "/v1/grants":
        scoped_to = "hosp-a"  # granting hosp-a's data is hosp-a's (or an admin's) to do
    if "{hosp_a_grant}" in path:
        made = await client.post("/v1/grants", json=GRANT, headers=bearer(keys["demo admin"]))
        path = path.replace("{hosp_a_grant}", made.json()["grant"]["id"])
        scoped_to = "hosp-a"
    if "{settlement}" in path or path == "/v1/redemptions":
        operator = bearer(keys["alliance operator"])
        made = await client.post("/v1/settlements", json=SETTLEMENT, headers=operator)
        await client.post("/v1/catalogue", json=ITEM, headers=operator)
        path = path.replace("{settlement}", made.json()["id"])
    if "{clinic_b}" in path:
        path = path.replace("{clinic_b}", "clinic-b")
        scoped_to = "clinic-b"
    r = await _send(client, method, path, body, bearer(keys[name]))
    expected = ok if ROLE_OF[name] in allowed else 403
    if scoped_to and INSTITUTION_OF[name] not in (None, scoped_to):
        expected = 403
    assert r.status_code == expected, r.text
    if expected == 403:
        assert r.json()["error"] == "forbidden"


@pytest.mark.parametrize(("method", "path", "body", "allowed", "ok"), MATRIX)
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer not-a-key"},
        {"Authorization": "Basic dXNlcjpwdw=="},
        {"X-API-Key": "hs_0123456789abcdef_" + "A" * 43},
    ],
)
async def test_no_or_bad_key_is_401(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    body: Body,
    allowed: frozenset[Role],
    ok: int,
    headers: dict[str, str],
) -> None:
    path = (
        path.replace("{victim}", "prn_x")
        .replace("{alliance_entry}", "0")
        .replace("{clinic_b_record}", "rec_x")
        .replace("{clinic_b_consent}", "cns_x")
        .replace("{hosp_a_grant}", "grt_x")
        .replace("{open_review}", "rev_x")
        .replace("{claimed_review}", "rev_x")
        .replace("{candidate}", "sha256:x")
        .replace("{settlement}", "stl_x")
        .replace("{clinic_b}", "clinic-b")
    )
    r = await _send(client, method, path, body, headers)
    assert r.status_code == 401
    assert r.json()["error"] == "not_authenticated"
    assert r.headers["www-authenticate"] == "Bearer"


async def test_revoked_key_stops_working_at_once(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    admin = bearer(keys["demo admin"])
    created = await client.post(
        "/v1/principals", json={"name": "t", "role": "analyst"}, headers=admin
    )
    key, pid = created.json()["api_key"], created.json()["principal"]["id"]
    assert (await client.get("/v1/whoami", headers=bearer(key))).status_code == 200
    assert (await client.delete(f"/v1/principals/{pid}", headers=admin)).status_code == 200
    assert (await client.get("/v1/whoami", headers=bearer(key))).status_code == 401
    assert (await client.delete(f"/v1/principals/{pid}", headers=admin)).status_code == 404


ACCESS = {
    "kind": "access",
    "purpose": "treatment",
    "legal_basis": "contract",
    "holder": "hosp-a",
    "categories": ["health_status"],
    "max_level": 3,
}


async def _decision_count(graph: Graph) -> int:
    async with graph.driver.session() as s:
        record = await (await s.run("MATCH (d:Decision) RETURN count(d) AS n")).single()
    return int(record["n"]) if record is not None else 0


@pytest.mark.parametrize("how", ["endpoint", "another process"])
async def test_a_revoked_key_decides_nothing_though_seen_before(
    client: httpx.AsyncClient, keys: dict[str, str], graph: Graph, how: str
) -> None:
    """Decisions authenticate a key seen before without looking it up (kgservice/auth/seen.py);
    the decision's own transaction refuses a revoked principal, including one revoked by
    another process of the service, whose revocation this process never saw."""
    admin = bearer(keys["demo admin"])
    created = await client.post(
        "/v1/principals",
        json={"name": "t", "role": "requester", "institution": "hosp-a"},
        headers=admin,
    )
    key, pid = created.json()["api_key"], created.json()["principal"]["id"]
    for _ in range(2):  # the second one is authenticated from memory
        r = await client.post("/v1/decisions", json=ACCESS, headers=bearer(key))
        assert r.status_code == 200, r.text
    if how == "endpoint":
        assert (await client.delete(f"/v1/principals/{pid}", headers=admin)).status_code == 200
    else:
        async with graph.driver.session() as s:
            await s.run("MATCH (p:Principal {id: $id}) SET p.revoked = 'now'", id=pid)
    before = await _decision_count(graph)
    for _ in range(2):  # refused in the transaction, then by the lookup
        r = await client.post("/v1/decisions", json=ACCESS, headers=bearer(key))
        assert r.status_code == 401, r.text
        assert r.json()["error"] == "not_authenticated"
    assert await _decision_count(graph) == before


async def test_key_is_shown_once_and_stored_only_as_a_hash(
    client: httpx.AsyncClient, keys: dict[str, str], app: FastAPI
) -> None:
    admin = bearer(keys["demo admin"])
    created = await client.post(
        "/v1/principals", json={"name": "t", "role": "auditor"}, headers=admin
    )
    key = created.json()["api_key"]
    listing = await client.get("/v1/principals", headers=admin)
    assert key not in listing.text
    assert "key_hash" not in listing.text
    graph = app.state.runtime.graph
    async with graph.driver.session() as s:
        stored = await (await s.run("MATCH (p:Principal) RETURN properties(p) AS p")).data()
    assert all(key not in str(row["p"]) for row in stored)


async def test_institution_scope_on_ledger_entries(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    """A clinic's system sees its own entries and alliance entries, not another clinic's, and
    the refusal names no institution and shows none of its data."""
    admin = bearer(keys["demo admin"])
    size = (await client.get("/v1/ledger/checkpoint", headers=admin)).json()["checkpoint"]["size"]
    own = bearer(keys["clinic-b records"])
    seen = {"own": 0, "other": 0}
    for seq in range(size):
        entry = (await client.get(f"/v1/ledger/entries/{seq}", headers=admin)).json()["entry"]
        r = await client.get(f"/v1/ledger/entries/{seq}", headers=own)
        if entry["institution"] in (None, "clinic-b"):
            assert r.status_code == 200
            seen["own"] += 1
        else:
            assert r.status_code == 403
            assert entry["institution"] not in r.text
            assert entry["payload"]["id"] not in r.text
            seen["other"] += 1
    assert seen["own"]
    assert seen["other"]


async def test_institution_bound_roles_need_an_institution(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    admin = bearer(keys["demo admin"])
    r = await client.post(
        "/v1/principals", json={"name": "x", "role": "institution_system"}, headers=admin
    )
    assert r.status_code == 422
    r = await client.post(
        "/v1/principals",
        json={"name": "x", "role": "institution_system", "institution": "nowhere"},
        headers=admin,
    )
    assert r.status_code == 422
    assert "nowhere" in r.json()["detail"]


async def test_whoami_shows_role_and_scope(client: httpx.AsyncClient, keys: dict[str, str]) -> None:
    r = await client.get("/v1/whoami", headers=bearer(keys["clinic-c records"]))
    assert r.json()["role"] == "institution_system"
    assert r.json()["institution"] == INSTITUTION_OF["clinic-c records"] == "clinic-c"
