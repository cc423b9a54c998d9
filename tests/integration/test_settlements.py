"""Settlements, the points ledger and redemptions against the real Neo4j: the seed's game settled
into points, double entry, 409 on a short balance with nothing written, upload awards, scope."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from kgservice.graph.database import Graph
from kgservice.ledger.service import Ledger
from tests import REPO_ROOT
from tests.integration.conftest import bearer
from tests.integration.ledgerkit import verify
from tests.integration.test_auth import ITEM, SEED_GAME, SETTLEMENT

pytestmark = pytest.mark.anyio


async def points(client: httpx.AsyncClient, key: str, institution: str) -> dict[str, Any]:
    r = await client.get(f"/v1/points/{institution}", headers=bearer(key))
    assert r.status_code == 200, r.text
    return dict(r.json())


async def entry_sums(graph: Graph) -> list[int]:
    async def read(tx: Any) -> list[int]:
        result = await tx.run(
            "MATCH (e:PointsEntry) WITH e.txn AS txn, sum(e.amount) AS total RETURN total"
        )
        return [int(r["total"]) async for r in result]

    return list(await graph.read(read))


async def test_the_seeds_game_settles_into_points_and_is_ledgered(
    client: httpx.AsyncClient, keys: dict[str, str], graph: Graph, ledger: Ledger
) -> None:
    anyone = bearer(keys["alliance analyst"])
    checked = await client.post("/v1/settlements/shapley", json=SEED_GAME, headers=anyone)
    assert checked.json()["shapley"] == {"hosp-a": "190/3", "clinic-b": "70/3", "clinic-c": "40/3"}
    operator = bearer(keys["alliance operator"])
    r = await client.post("/v1/settlements", json={**SETTLEMENT, "pool": 100}, headers=operator)
    assert r.status_code == 201, r.text
    s = r.json()
    # 63.33 + 23.33 + 13.33: one point left over, to the largest remainder (a tie: larger share).
    assert s["points"] == {"hosp-a": 64, "clinic-b": 23, "clinic-c": 13}
    assert s["method"] == "exact"
    assert s["valuation"] == "given"
    entry = await client.get(f"/v1/ledger/entries/{s['ledger']['seq']}", headers=anyone)
    assert entry.json()["entry"]["type"] == "settlement.made"
    assert entry.json()["entry"]["payload"]["shapley"]["clinic-b"] == "70/3"
    again = await client.get(f"/v1/settlements/{s['id']}", headers=anyone)
    assert again.json()["points"] == s["points"]
    b = await points(client, keys["clinic-b records"], "clinic-b")
    assert b == {"institution": "clinic-b", "balance": 23, "earned": 23, "spent": 0}
    assert await entry_sums(graph) == [0]  # double entry: every transaction balances
    assert (await verify(graph, ledger.signer)).ok


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"game": {**SEED_GAME, "players": ["hosp-a", "clinic-b", "nowhere"]}}, "unknown players"),
        (
            {"game": {"players": ["hosp-a", "x"], "values": {"hosp-a": 1, "x": 1, "hosp-a,x": 2}}},
            "registered institutions: x",
        ),
        ({"game": {"players": ["hosp-a"], "values": {"hosp-a": -5}}}, "no player has a positive"),
        ({"game": {**SEED_GAME, "values": {"hosp-a": 1}}}, "missing"),
    ],
)
async def test_bad_settlements_are_refused_and_write_nothing(
    client: httpx.AsyncClient,
    keys: dict[str, str],
    graph: Graph,
    change: dict[str, Any],
    message: str,
) -> None:
    operator = bearer(keys["alliance operator"])
    r = await client.post("/v1/settlements", json={**SETTLEMENT, **change}, headers=operator)
    assert r.status_code == 422, r.text
    assert message in r.json()["detail"]
    assert await entry_sums(graph) == []


async def test_redemption_spends_points_and_a_short_balance_is_409(
    client: httpx.AsyncClient, keys: dict[str, str], graph: Graph
) -> None:
    operator = bearer(keys["alliance operator"])
    await client.post("/v1/settlements", json=SETTLEMENT, headers=operator)  # 634 / 233 / 133
    assert (await client.post("/v1/catalogue", json=ITEM, headers=operator)).status_code == 201
    duplicate = await client.post("/v1/catalogue", json=ITEM, headers=operator)
    assert duplicate.status_code == 409
    listed = await client.get("/v1/catalogue", headers=bearer(keys["clinic-c records"]))
    assert [i["id"] for i in listed.json()] == [ITEM["id"]]

    clinic_c = bearer(keys["clinic-c records"])
    short = await client.post(
        "/v1/redemptions", json={"item": ITEM["id"], "quantity": 2}, headers=clinic_c
    )
    assert short.status_code == 409
    assert "costs 200, the balance is 133" in short.json()["detail"]
    assert len(await entry_sums(graph)) == 1  # nothing written by the refusal
    spent = await client.post("/v1/redemptions", json={"item": ITEM["id"]}, headers=clinic_c)
    assert spent.status_code == 201, spent.text
    assert spent.json()["balance"] == 33
    assert await points(client, keys["clinic-c records"], "clinic-c") == {
        "institution": "clinic-c",
        "balance": 33,
        "earned": 133,
        "spent": 100,
    }
    history = await client.get("/v1/points/clinic-c/history", headers=clinic_c)
    assert [(h["kind"], h["amount"]) for h in history.json()] == [
        ("redemption", -100),
        ("settlement", 133),
    ]

    # Concurrent redemptions cannot overspend: 233 points buy two, whatever the interleaving.
    clinic_b = bearer(keys["clinic-b records"])
    replies = await asyncio.gather(
        *(
            client.post("/v1/redemptions", json={"item": ITEM["id"]}, headers=clinic_b)
            for _ in range(5)
        )
    )
    assert sorted(r.status_code for r in replies) == [201, 201, 409, 409, 409]
    assert (await points(client, keys["clinic-b records"], "clinic-b"))["balance"] == 33
    assert set(await entry_sums(graph)) == {0}

    # Scope: one institution cannot spend or read another's points; unknown items are 404.
    theft = await client.post(
        "/v1/redemptions", json={"item": ITEM["id"], "institution": "hosp-a"}, headers=clinic_c
    )
    assert theft.status_code == 403
    peek = await client.get("/v1/points/hosp-a", headers=clinic_c)
    assert peek.status_code == 403
    missing = await client.post("/v1/redemptions", json={"item": "nope"}, headers=clinic_c)
    assert missing.status_code == 404


async def test_uploads_earn_points_once_by_the_documented_formula(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    clinic_b = bearer(keys["clinic-b records"])
    data = (REPO_ROOT / "samples" / "records.json").read_bytes()
    sent = await client.post(
        "/v1/records", content=data, headers={**clinic_b, "Content-Type": "application/json"}
    )
    assert sent.status_code == 201, sent.text
    c = sent.json()["contribution"]
    expected = int((c["fields"] - c["flagged"]) * (0.5 + 0.5 * c["completeness"]))
    expected += 20 * c["rare_conditions"]
    operator = bearer(keys["alliance operator"])
    award = await client.post("/v1/settlements/uploads", headers=operator)
    assert award.status_code == 200, award.text
    assert award.json()["submissions"] == 1
    assert award.json()["points"] == {"clinic-b": expected}
    assert (await points(client, keys["clinic-b records"], "clinic-b"))["balance"] == expected
    again = await client.post("/v1/settlements/uploads", headers=operator)
    assert again.json()["submissions"] == 0
