"""Group commit against the real Neo4j: shared transactions, per-unit failure, ledger order."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from neo4j import AsyncManagedTransaction

from kgservice.errors import Unprocessable
from kgservice.graph.database import Graph
from kgservice.graph.grouping import GroupCommit
from kgservice.ledger.service import Ledger, Receipt
from tests.integration.conftest import bearer
from tests.integration.ledgerkit import event, verify

pytestmark = pytest.mark.anyio


async def mark(tx: AsyncManagedTransaction, ledger: Ledger, n: int) -> Receipt:
    await tx.run("CREATE (:GroupProbe {n: $n})", n=n)
    if n == 3:
        raise Unprocessable("unit 3 is refused after writing")
    return (await ledger.append(tx, [event(n)]))[0]


async def probes(graph: Graph) -> list[int]:
    async def read(tx: AsyncManagedTransaction) -> list[int]:
        result = await tx.run("MATCH (p:GroupProbe) RETURN p.n AS n ORDER BY n")
        return [r["n"] async for r in result]

    return await graph.read(read)


@pytest.mark.parametrize("deferred", [False, True], ids=["entries-per-unit", "entries-deferred"])
async def test_concurrent_units_share_commits_and_a_bad_one_fails_alone(
    graph: Graph, ledger: Ledger, deferred: bool
) -> None:
    # Deferred: the batch's ledger entries are written once, before its commit.
    grouped = GroupCommit(graph, ledger if deferred else None)
    # Units queued together commit together.
    first = await asyncio.gather(*(grouped.write(mark, ledger, n) for n in (0, 1, 2)))
    assert grouped.batches == 1
    assert [r.seq for r in first] == [0, 1, 2]
    # A batch with a failing unit falls back to one transaction per unit.
    outcomes: list[Receipt | BaseException] = list(first)
    outcomes += await asyncio.gather(
        *(grouped.write(mark, ledger, n) for n in range(3, 12)), return_exceptions=True
    )
    assert grouped.batches == 1
    failed = [n for n, o in enumerate(outcomes) if isinstance(o, BaseException)]
    assert failed == [3]
    assert isinstance(outcomes[3], Unprocessable)
    # Nothing of the refused unit was written, everything of the others was, each once.
    assert await probes(graph) == [n for n in range(12) if n != 3]
    receipts = [o for o in outcomes if isinstance(o, Receipt)]
    assert sorted(r.seq for r in receipts) == list(range(11))
    report = await verify(graph, ledger.signer)
    assert report.ok
    assert report.size == 11

    # Each caller's receipt names the entry that was stored for it.
    async def leaves(tx: AsyncManagedTransaction) -> dict[int, str]:
        result = await tx.run("MATCH (e:LedgerEntry) RETURN e.seq AS seq, e.leaf_hash AS leaf")
        return {r["seq"]: r["leaf"] async for r in result}

    stored = await graph.read(leaves)
    assert {r.seq: r.leaf_hash.hex() for r in receipts} == stored


async def test_decisions_under_concurrency_get_distinct_ledgered_receipts(
    client: httpx.AsyncClient, keys: dict[str, str], graph: Graph, ledger: Ledger
) -> None:
    body = {"kind": "access", "purpose": "treatment", "legal_basis": "contract",
            "holder": "hosp-a", "categories": ["health_status"], "max_level": 3}  # fmt: skip
    bad = dict(body, holder="nowhere")
    key = bearer(keys["hosp-a endocrinologist"])
    replies = await asyncio.gather(
        *(client.post("/v1/decisions", json=bad if i == 5 else body, headers=key)
          for i in range(16))
    )  # fmt: skip
    assert [r.status_code for r in replies] == [422 if i == 5 else 200 for i in range(16)]
    assert "nowhere" in replies[5].json()["detail"]
    seqs = [r.json()["ledger"]["seq"] for i, r in enumerate(replies) if i != 5]
    assert len(set(seqs)) == 15
    ids = {r.json()["id"] for i, r in enumerate(replies) if i != 5}

    async def stored(tx: AsyncManagedTransaction) -> set[str]:
        return {r["id"] async for r in await tx.run("MATCH (d:Decision) RETURN d.id AS id")}

    assert await graph.read(stored) == ids
    assert (await verify(graph, ledger.signer)).ok
