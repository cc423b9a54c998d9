"""Decisions against the real graph: consents looked up at decision time, reasons with articles,
the decision and its ledger entry recorded together."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from kgservice.graph.database import Graph
from kgservice.ledger import merkle
from kgservice.ledger.canonical import canonical
from tests.integration.conftest import bearer

pytestmark = pytest.mark.anyio
RESIDENT_ID = "11010519491231002X"


def _iso(delta_days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=delta_days)).isoformat()


async def consent(client: httpx.AsyncClient, key: str, **change: Any) -> httpx.Response:
    body = {
        "patient": {"kind": "ResidentId", "value": RESIDENT_ID},
        "purposes": ["research"],
        "categories": ["health_status"],
        "separate": True,
        "valid_from": _iso(-30),
        "valid_until": _iso(300),
        **change,
    }
    return await client.post("/v1/consents", json=body, headers=bearer(key))


async def grant(client: httpx.AsyncClient, key: str, **change: Any) -> httpx.Response:
    body = {
        "right": "use",
        "holder": "clinic-b",
        "grantee": "uni-lab",
        "purposes": ["research"],
        "categories": ["health_status"],
        "max_level": 3,
        "valid_from": _iso(-1),
        "valid_until": _iso(90),
        **change,
    }
    return await client.post("/v1/grants", json=body, headers=bearer(key))


async def decide(client: httpx.AsyncClient, key: str, **change: Any) -> dict[str, Any]:
    body = {
        "kind": "share",
        "purpose": "research",
        "legal_basis": "consent",
        "holder": "clinic-b",
        "recipient": "uni-lab",
        "categories": ["health_status"],
        "max_level": 3,
        **change,
    }
    r = await client.post("/v1/decisions", json=body, headers=bearer(key))
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


async def test_consent_decides_a_share_and_revocation_takes_effect_at_once(
    client: httpx.AsyncClient, keys: dict[str, str], graph: Graph
) -> None:
    made = await consent(client, keys["clinic-b records"])
    assert made.status_code == 201, made.text
    assert (await grant(client, keys["clinic-b records"])).status_code == 201
    pseudonym = made.json()["consent"]["patient"]
    assert RESIDENT_ID not in made.text
    requester = keys["hosp-a endocrinologist"]
    ok = await decide(client, requester, patients=[pseudonym])
    assert ok["verdict"] == "permit", ok
    assert ok["reasons"] == []
    assert ok["rule_set"].startswith("sha256:")
    revoked = await client.delete(
        f"/v1/consents/{made.json()['consent']['id']}", headers=bearer(keys["clinic-b records"])
    )
    assert revoked.status_code == 200
    no = await decide(client, requester, patients=[pseudonym])
    assert no["verdict"] == "deny"
    rules = {r["rule"]: r for r in no["reasons"]}
    assert set(rules) == {"RL-CONSENT-VALID", "RL-THIRD-PARTY-CONSENT"}
    assert rules["RL-THIRD-PARTY-CONSENT"]["offending"] == [pseudonym]
    assert "PIPL Art. 23" in rules["RL-THIRD-PARTY-CONSENT"]["article"]
    assert rules["RL-CONSENT-VALID"]["message_zh"]


async def test_consent_must_cover_purpose_categories_and_time(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    system = keys["clinic-b records"]
    await grant(client, system)
    expired = (await consent(client, system, valid_from=_iso(-60), valid_until=_iso(-1))).json()
    pseudonym = expired["consent"]["patient"]
    requester = keys["hosp-a endocrinologist"]
    assert (await decide(client, requester, patients=[pseudonym]))["verdict"] == "deny"
    await consent(client, system, purposes=["treatment"])  # wrong purpose
    assert (await decide(client, requester, patients=[pseudonym]))["verdict"] == "deny"
    await consent(client, system, separate=False)  # covers, but not separately
    d = await decide(client, requester, patients=[pseudonym])
    assert [r["rule"] for r in d["reasons"]] == ["RL-THIRD-PARTY-CONSENT"]
    # De-identified data need no separate consent, and carry the obligation to de-identify.
    d = await decide(client, requester, patients=[pseudonym], deidentified=True)
    assert d["verdict"] == "permit"
    assert any("de-identify" in o for o in d["obligations"])


async def test_core_private_data_never_leave_and_the_decision_is_ledgered(
    client: httpx.AsyncClient, keys: dict[str, str], graph: Graph
) -> None:
    await grant(
        client,
        keys["clinic-b records"],
        grantee="alliance",
        purposes=["model_training"],
        max_level=4,
    )
    d = await decide(
        client,
        keys["alliance operator"],
        kind="training",
        purpose="model_training",
        legal_basis="statutory_duty",
        recipient=None,
        max_level=4,
    )
    assert d["verdict"] == "deny"
    assert [r["rule"] for r in d["reasons"]] == ["RL-CORE-EGRESS"]
    assert d["reasons"][0]["offending"] == ["max_level 4"]
    seq = d["ledger"]["seq"]
    entry = (
        await client.get(f"/v1/ledger/entries/{seq}", headers=bearer(keys["external auditor"]))
    ).json()
    assert entry["entry"]["type"] == "decision.made"
    assert entry["entry"]["payload"]["verdict"] == "deny"
    assert entry["entry"]["payload"]["rules"] == ["RL-CORE-EGRESS"]
    proof = [bytes.fromhex(h) for h in d["ledger"]["inclusion_proof"]]
    leaf = canonical(entry["entry"])
    cp = d["ledger"]["checkpoint"]
    assert merkle.verify_inclusion(leaf, seq, cp["size"], proof, bytes.fromhex(cp["root"]))
    async with graph.driver.session() as s:
        row = await (
            await s.run("MATCH (x:Decision {id: $id}) RETURN x {.*} AS d", id=d["id"])
        ).single()
    assert row is not None
    assert row["d"]["verdict"] == "deny"
    assert row["d"]["verdict"] == entry["entry"]["payload"]["verdict"]
    facts = json.loads(row["d"]["facts"])
    assert facts["requester_institution"] is None  # the operator acts for the alliance
    assert facts["use_granted"] is True  # the alliance holds a use grant up to level 4


async def test_missing_purpose_and_emergency(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    requester = keys["hosp-a endocrinologist"]
    d = await decide(
        client,
        requester,
        kind="access",
        purpose=None,
        legal_basis=None,
        holder="hosp-a",
        recipient=None,
    )
    assert d["verdict"] == "deny"
    assert {r["rule"] for r in d["reasons"]} == {"RL-PURPOSE", "RL-LEGAL-BASIS"}
    d = await decide(
        client,
        requester,
        kind="access",
        purpose="treatment",
        legal_basis="emergency",
        holder="hosp-a",
        recipient=None,
    )
    assert d["verdict"] == "review"
    assert any("committee review" in o for o in d["obligations"])


async def test_unknown_holder_and_bad_requests(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    requester = bearer(keys["hosp-a endocrinologist"])
    nowhere = {
        "kind": "access",
        "holder": "nowhere",
        "categories": ["health_status"],
        "max_level": 3,
    }
    r = await client.post("/v1/decisions", headers=requester, json=nowhere)
    assert r.status_code == 422
    assert "nowhere" in r.json()["detail"]
    r = await client.post(
        "/v1/decisions",
        headers=requester,
        json={"kind": "steal", "holder": "hosp-a", "categories": [], "max_level": 9},
    )
    assert r.status_code == 422
    assert {tuple(d["loc"]) for d in r.json()["detail"]} >= {
        ("body", "kind"),
        ("body", "max_level"),
    }


async def test_consents_belong_to_their_holder(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    made = (await consent(client, keys["clinic-b records"])).json()
    other = await client.delete(
        f"/v1/consents/{made['consent']['id']}", headers=bearer(keys["clinic-c records"])
    )
    assert other.status_code == 403
    bad = await client.post(
        "/v1/consents",
        headers=bearer(keys["clinic-b records"]),
        json={
            "patient": {"kind": "ResidentId"},
            "purposes": ["research"],
            "categories": ["health_status"],
            "separate": True,
            "valid_from": _iso(0),
        },
    )
    assert bad.status_code == 422


async def test_use_and_operation_rights(client: httpx.AsyncClient, keys: dict[str, str]) -> None:
    system, requester = keys["clinic-b records"], keys["hosp-a endocrinologist"]
    # hosp-a reading clinic-b's data is use by a non-holder: it needs clinic-b's use grant.
    visit = {"kind": "access", "purpose": "treatment", "legal_basis": "contract", "recipient": None}
    d = await decide(client, requester, **visit)
    assert [r["rule"] for r in d["reasons"]] == ["RL-USE-GRANT"]
    assert d["reasons"][0]["offending"] == ["use by hosp-a"]
    made = await grant(client, system, grantee="hosp-a", purposes=["treatment"])
    assert made.status_code == 201, made.text
    assert (await decide(client, requester, **visit))["verdict"] == "permit"
    # A grant narrower than the request does not count: level 4 asked, 3 granted.
    assert (await decide(client, requester, **visit, max_level=4))["verdict"] == "deny"
    revoked = await client.delete(
        f"/v1/grants/{made.json()['grant']['id']}", headers=bearer(system)
    )
    assert revoked.status_code == 200
    assert (await decide(client, requester, **visit))["verdict"] == "deny"
    # Selling a trained model needs the operation right for that product.
    sell = {
        "kind": "access",
        "purpose": "commercialisation",
        "legal_basis": "contract",
        "holder": "clinic-b",
        "recipient": None,
        "product": "glycaemia-model-v1",
    }
    d = await decide(client, keys["clinic-b records"], **sell)
    assert [r["rule"] for r in d["reasons"]] == ["RL-OPERATION-GRANT"]
    op = await grant(
        client,
        system,
        right="operation",
        grantee="clinic-b",
        purposes=["commercialisation"],
        product="glycaemia-model-v1",
    )
    assert op.status_code == 201, op.text
    assert (await decide(client, keys["clinic-b records"], **sell))["verdict"] == "permit"


async def test_grants_are_the_holders_to_give(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    other = await grant(client, keys["clinic-c records"])  # clinic-c granting clinic-b's data
    assert other.status_code == 403
    no_product = await grant(client, keys["clinic-b records"], right="operation")
    assert no_product.status_code == 422
    listed = await client.get("/v1/grants", headers=bearer(keys["clinic-b records"]))
    assert listed.status_code == 200


async def test_prescription_check(client: httpx.AsyncClient, keys: dict[str, str]) -> None:
    doctor = bearer(keys["hosp-a endocrinologist"])
    rx = {"drug": "二甲双胍", "daily_dose_mg": "3000", "diagnosis": "E11.9", "egfr": "24"}
    unsafe = {"kind": "prescription", "holder": "hosp-a", "prescription": rx}
    r = await client.post("/v1/decisions", json=unsafe, headers=doctor)
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["verdict"] == "deny"
    got = {x["rule"]: x["offending"] for x in d["reasons"]}
    assert got == {"RX-CONTRAINDICATION-EGFR": ["egfr 24"], "RX-MAX-DOSE": ["daily_dose_mg 3000"]}
    safe = {**unsafe, "prescription": {**rx, "daily_dose_mg": "1500", "egfr": "65"}}
    answer = await client.post("/v1/decisions", json=safe, headers=doctor)
    assert answer.json()["verdict"] == "permit"
