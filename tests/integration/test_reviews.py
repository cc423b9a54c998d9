"""Break-glass and the committee's review flow, against the real graph and ledger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from kgservice.graph.database import Graph
from tests.integration.conftest import bearer

pytestmark = pytest.mark.anyio
EMERGENCY = {"justification": "患者昏迷送急诊，需调阅其糖尿病随访记录以确定用药"}


async def decide(client: httpx.AsyncClient, key: str, **change: Any) -> dict[str, Any]:
    body = {
        "kind": "access",
        "purpose": "treatment",
        "legal_basis": "consent",
        "holder": "hosp-a",
        "patients": ["ps_" + "0" * 40],
        "categories": ["health_status"],
        "max_level": 3,
        **change,
    }
    r = await client.post("/v1/decisions", json=body, headers=bearer(key))
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


async def entry(client: httpx.AsyncClient, keys: dict[str, str], seq: int) -> dict[str, Any]:
    r = await client.get(f"/v1/ledger/entries/{seq}", headers=bearer(keys["external auditor"]))
    out: dict[str, Any] = r.json()["entry"]
    return out


async def test_break_glass_permits_over_consent_and_opens_a_review(
    client: httpx.AsyncClient, keys: dict[str, str], graph: Graph
) -> None:
    doctor = keys["hosp-a endocrinologist"]
    denied = await decide(client, doctor)
    assert denied["verdict"] == "deny"
    assert [r["rule"] for r in denied["reasons"]] == ["RL-CONSENT-VALID"]
    d = await decide(client, doctor, emergency=EMERGENCY)
    assert d["verdict"] == "permit"
    assert d["override"] is True
    assert d["review"]
    assert any("committee review" in o for o in d["obligations"])
    seq = d["ledger"]["seq"]
    made, override, opened = [await entry(client, keys, s) for s in (seq, seq + 1, seq + 2)]
    assert made["type"] == "decision.made"
    assert made["payload"]["override"] is True
    assert override["type"] == "decision.override"
    assert override["payload"]["overridden"] == ["RL-CONSENT-VALID"]
    assert override["payload"]["patients"] == ["ps_" + "0" * 40]
    assert EMERGENCY["justification"] not in str(override)  # only its digest is on the ledger
    assert opened["type"] == "review.opened"
    assert opened["payload"]["id"] == d["review"]


async def test_break_glass_never_lifts_core_private_egress(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    d = await decide(
        client,
        keys["hosp-a endocrinologist"],
        kind="export",
        recipient="hosp-a",
        max_level=5,
        emergency=EMERGENCY,
    )
    assert d["verdict"] == "deny"
    assert d["override"] is False
    assert "RL-CORE-EGRESS" in [r["rule"] for r in d["reasons"]]
    assert d["review"] is None


async def test_review_flow_claim_decide_and_exemption(
    client: httpx.AsyncClient, keys: dict[str, str], graph: Graph
) -> None:
    doctor, reviewer = keys["hosp-a endocrinologist"], keys["review committee member"]
    d = await decide(client, doctor, emergency=EMERGENCY)
    rid = d["review"]
    queue = (await client.get("/v1/reviews?status=open", headers=bearer(reviewer))).json()
    assert [r["id"] for r in queue] == [rid]
    assert queue[0]["kind"] == "override"
    uphold = {"outcome": "uphold", "reason": "急诊调阅合理，予以维持"}
    early = await client.post(f"/v1/reviews/{rid}/decide", headers=bearer(reviewer), json=uphold)
    assert early.status_code == 409
    claimed = await client.post(f"/v1/reviews/{rid}/claim", headers=bearer(reviewer))
    assert claimed.status_code == 200
    assert claimed.json()["review"]["status"] == "claimed"
    again = await client.post(f"/v1/reviews/{rid}/claim", headers=bearer(reviewer))
    assert again.status_code == 409
    until = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    exempt = {"outcome": "exemption", "reason": "随访需要，给予七天豁免", "exemption_until": until}
    decided = await client.post(f"/v1/reviews/{rid}/decide", headers=bearer(reviewer), json=exempt)
    assert decided.status_code == 200, decided.text
    review = decided.json()["review"]
    assert review["status"] == "decided"
    assert review["outcome"] == "exemption"
    assert review["grant"].startswith("grt_")
    grants = (await client.get("/v1/grants", headers=bearer(keys["demo admin"]))).json()
    exemption = next(g for g in grants if g["id"] == review["grant"])
    assert exemption["right"] == "use"
    assert exemption["purposes"] == ["treatment"]
    assert exemption["valid_until"] is not None
    step = await entry(client, keys, decided.json()["receipt"]["seq"])
    assert step["type"] == "review.decided"
    assert step["payload"]["outcome"] == "exemption"


async def test_only_reviewers_act_and_reasons_are_required(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    d = await decide(client, keys["hosp-a endocrinologist"], legal_basis="emergency", patients=[])
    assert d["verdict"] == "review"
    rid = d["review"]
    for who in ("hosp-a endocrinologist", "alliance analyst", "demo admin"):
        r = await client.post(f"/v1/reviews/{rid}/claim", headers=bearer(keys[who]))
        assert r.status_code == 403, who
    reviewer = bearer(keys["review committee member"])
    await client.post(f"/v1/reviews/{rid}/claim", headers=reviewer)
    short = await client.post(
        f"/v1/reviews/{rid}/decide", headers=reviewer, json={"outcome": "reverse", "reason": "no"}
    )
    assert short.status_code == 422
    endless = {"outcome": "exemption", "reason": "没有期限的豁免不被允许"}
    loose = await client.post(f"/v1/reviews/{rid}/decide", headers=reviewer, json=endless)
    assert loose.status_code == 422
    missing = await client.post("/v1/reviews/rev_nope/claim", headers=reviewer)
    assert missing.status_code == 404
