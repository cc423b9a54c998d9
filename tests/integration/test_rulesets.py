"""Rule sets as versioned data: vetted on upload, replayed over past decisions, activated only by
a steward and a reviewer together, and used by every decision after that."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests import REPO_ROOT
from tests.integration.conftest import bearer

pytestmark = pytest.mark.anyio
SHIPPED = (REPO_ROOT / "shapes" / "redlines.ttl").read_text("utf-8")
# A laxer candidate: core-private data may leave up to level 4 instead of 3.
LAX = SHIPPED.replace(
    "sh:property [ sh:path hs:requestsLevel ; sh:maxInclusive 3 ] .",
    "sh:property [ sh:path hs:requestsLevel ; sh:maxInclusive 4 ] .",
)
PREFIXES = (
    "@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
    "@prefix hs: <https://w3id.org/health-shield/ns#> .\n"
)
EXPORT = {
    "kind": "training",
    "purpose": "model_training",
    "legal_basis": "statutory_duty",
    "holder": "hosp-a",
    "categories": ["health_status"],
    "max_level": 4,
}


async def upload(client: httpx.AsyncClient, key: str, text: str) -> httpx.Response:
    headers = {**bearer(key), "Content-Type": "text/turtle"}
    return await client.post("/v1/rulesets", content=text.encode(), headers=headers)


async def decide(client: httpx.AsyncClient, keys: dict[str, str]) -> dict[str, Any]:
    r = await client.post("/v1/decisions", json=EXPORT, headers=bearer(keys["hosp-a EHR"]))
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


async def test_upload_replay_and_two_person_activation(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    before = await decide(client, keys)
    assert before["verdict"] == "deny"
    assert [r["rule"] for r in before["reasons"]] == ["RL-CORE-EGRESS"]
    steward, reviewer = keys["alliance data steward"], keys["review committee member"]
    r = await upload(client, steward, LAX)
    assert r.status_code == 201, r.text
    body = r.json()
    h = body["ruleset"]["hash"]
    assert body["ruleset"]["status"] == "candidate"
    assert body["replayed"] == 1
    assert body["changes"] == [
        {
            "decision": before["id"],
            "verdict_now": "deny",
            "verdict_candidate": "permit",
            "rules_now": ["RL-CORE-EGRESS"],
            "rules_candidate": [],
        }
    ]
    assert (await upload(client, steward, LAX)).status_code == 409
    # One approval is not enough: decisions still use the shipped rules.
    first = await client.post(f"/v1/rulesets/{h}/approve", headers=bearer(steward))
    assert first.json()["ruleset"]["status"] == "candidate"
    assert (await decide(client, keys))["verdict"] == "deny"
    second = await client.post(f"/v1/rulesets/{h}/approve", headers=bearer(reviewer))
    assert second.status_code == 200
    assert second.json()["ruleset"]["status"] == "active"
    after = await decide(client, keys)
    assert after["verdict"] == "permit"
    assert after["rule_set"] == h != before["rule_set"]
    again = await client.post(f"/v1/rulesets/{h}/approve", headers=bearer(steward))
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("text", "status", "says"),
    [
        (
            "@prefix hs: <https://w3id.org/health-shield/ns#> .\nhs:a hs:b hs:c ;\n  hs:d .\n",
            400,
            "line 3, column",
        ),
        (
            PREFIXES + 'hs:X a sh:NodeShape ; hs:ruleId "X" ; sh:targetClass hs:C ;\n'
            '  sh:property [ sh:path hs:p ; sh:minCount "many" ] .\n',
            422,
            "SHACL-for-SHACL",
        ),
        (
            PREFIXES + "hs:X a sh:NodeShape ; sh:targetClass hs:C ;\n"
            "  sh:property [ sh:path hs:p ; sh:minCount 1 ] .\n",
            422,
            "hs:ruleId",
        ),
        # rdflib parses nested blank nodes by recursion: too deep a nesting is a RecursionError,
        # which must be a 400, not a 500.
        (
            PREFIXES + "hs:a hs:b " + "[ hs:c " * 1000 + "1" + " ]" * 1000 + " .\n",
            400,
            "nested too deeply",
        ),
    ],
)
async def test_bad_rule_sets_are_refused_with_the_place(
    client: httpx.AsyncClient, keys: dict[str, str], text: str, status: int, says: str
) -> None:
    r = await upload(client, keys["alliance data steward"], text)
    assert r.status_code == status, r.text
    assert says in r.json()["detail"]


async def test_only_stewards_upload_and_only_steward_and_reviewer_approve(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    assert (await upload(client, keys["alliance analyst"], LAX)).status_code == 403
    h = (await upload(client, keys["alliance data steward"], LAX)).json()["ruleset"]["hash"]
    r = await client.post(f"/v1/rulesets/{h}/approve", headers=bearer(keys["demo admin"]))
    assert r.status_code == 403
    missing = await client.post(
        "/v1/rulesets/sha256:nope/approve", headers=bearer(keys["review committee member"])
    )
    assert missing.status_code == 404
