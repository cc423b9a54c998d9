"""The ledger in Neo4j: receipts, proofs over the API, atomicity, concurrent writers."""

from __future__ import annotations

import asyncio
import base64
from functools import partial
from typing import Any, cast

import httpx
import pytest
from neo4j import AsyncManagedTransaction, AsyncResult

from kgservice.graph.database import Graph
from kgservice.ledger import merkle
from kgservice.ledger import repository as repo
from kgservice.ledger.canonical import Entry, canonical
from kgservice.ledger.service import Ledger
from kgservice.ledger.signing import Checkpoint, public_from_b64
from tests.integration.conftest import bearer
from tests.integration.ledgerkit import event, fill, verify

pytestmark = pytest.mark.anyio


async def test_receipts_prove_inclusion_offline(graph: Graph, ledger: Ledger) -> None:
    receipts = await fill(graph, ledger, 21)
    assert [r.seq for r in receipts] == list(range(21))
    for i, r in enumerate(receipts):
        entry = Entry.place(event(i), r.seq, r.checkpoint.time)
        assert r.checkpoint.size == r.seq + 1
        assert r.checkpoint.verify(ledger.signer.public)
        assert merkle.verify_inclusion(
            entry.leaf_data(), r.seq, r.checkpoint.size, r.inclusion_proof, r.checkpoint.root
        )


async def test_batch_append_is_one_transaction_with_contiguous_numbers(
    graph: Graph, ledger: Ledger
) -> None:
    await fill(graph, ledger, 3)
    receipts = await graph.write(ledger.append, [event(i) for i in range(100)])
    assert [r.seq for r in receipts] == list(range(3, 103))
    assert (await verify(graph, ledger.signer)).ok


async def test_a_failed_unit_of_work_leaves_no_entry(graph: Graph, ledger: Ledger) -> None:
    await fill(graph, ledger, 5)

    async def append_then_fail(tx: AsyncManagedTransaction) -> None:
        await ledger.append(tx, [event(99)])
        await tx.run("RETURN 1/0")

    with pytest.raises(Exception, match="/ by zero"):
        await graph.write(append_then_fail)
    head = await graph.read(repo.read_head)
    assert head["size"] == 5
    assert await graph.read(repo.get_entry, 5) is None
    # The ledger had built on the rolled-back state: the head, compared under its lock, says
    # otherwise, and the entry is built again on the committed one.
    assert [r.seq for r in await graph.write(ledger.append, [event(6)])] == [5]
    assert (await verify(graph, ledger.signer)).ok


async def test_every_entry_proves_against_the_api_checkpoint(
    client: httpx.AsyncClient, keys: dict[str, str], graph: Graph, ledger: Ledger
) -> None:
    await fill(graph, ledger, 10)
    auditor = bearer(keys["external auditor"])
    body = (await client.get("/v1/ledger/checkpoint", headers=auditor)).json()
    public = public_from_b64(body["public_key"])
    cp = body["checkpoint"]
    checkpoint = Checkpoint(
        cp["origin"],
        cp["size"],
        bytes.fromhex(cp["root"]),
        cp["time"],
        cp["key_id"],
        base64.b64decode(cp["signature"]),
    )
    assert checkpoint.verify(public)
    for seq in range(checkpoint.size):
        r = (await client.get(f"/v1/ledger/entries/{seq}", headers=auditor)).json()
        leaf = canonical(r["entry"])
        assert merkle.leaf_hash(leaf).hex() == r["leaf_hash"]
        proof = [bytes.fromhex(h) for h in r["inclusion_proof"]]
        assert merkle.verify_inclusion(leaf, seq, checkpoint.size, proof, checkpoint.root)
    missing = await client.get(f"/v1/ledger/entries/{checkpoint.size}", headers=auditor)
    assert missing.status_code == 404


async def test_consistency_proofs_between_every_pair_of_sizes(
    client: httpx.AsyncClient, keys: dict[str, str], graph: Graph, ledger: Ledger
) -> None:
    await fill(graph, ledger, 4)  # the demo seed wrote 13 before these
    auditor = bearer(keys["external auditor"])
    size = (await client.get("/v1/ledger/checkpoint", headers=auditor)).json()["checkpoint"]
    n = size["size"]
    for old in range(n + 1):
        for new in range(old, n + 1):
            r = await client.get(f"/v1/ledger/consistency?from={old}&to={new}", headers=auditor)
            assert r.status_code == 200, r.text
            body = r.json()
            old_root = bytes.fromhex(body["from_checkpoint"]["root"]) if old else merkle.EMPTY_ROOT
            new_root = bytes.fromhex(body["to_checkpoint"]["root"]) if new else merkle.EMPTY_ROOT
            proof = [bytes.fromhex(h) for h in body["proof"]]
            assert merkle.verify_consistency(old, new, old_root, new_root, proof), (old, new)


@pytest.mark.parametrize(
    ("query", "status"),
    [("from=5&to=2", 400), ("from=1&to=999", 404), ("from=-1", 422), ("to=3", 422)],
)
async def test_consistency_rejects_bad_sizes(
    client: httpx.AsyncClient, keys: dict[str, str], query: str, status: int
) -> None:
    r = await client.get(f"/v1/ledger/consistency?{query}", headers=bearer(keys["demo admin"]))
    assert r.status_code == status
    assert "error" in r.json()


async def test_eight_concurrent_writers_get_unique_gapless_numbers(
    graph: Graph, ledger: Ledger
) -> None:
    per_writer = 25

    async def writer(w: int) -> list[int]:
        seqs: list[int] = []
        for i in range(per_writer):
            (receipt,) = await graph.write(ledger.append, [event(w * 1000 + i)])
            seqs.append(receipt.seq)
        return seqs

    results = await asyncio.gather(*(writer(w) for w in range(8)))
    all_seqs = sorted(s for seqs in results for s in seqs)
    assert all_seqs == list(range(8 * per_writer))
    for seqs in results:
        assert seqs == sorted(seqs)  # each writer's own appends keep their order
    report = await verify(graph, ledger.signer)
    assert report.ok, report.problems
    assert report.size == 8 * per_writer


class CountingTx:
    """A transaction that counts the statements sent through it (one round trip each)."""

    def __init__(self, tx: AsyncManagedTransaction) -> None:
        self.tx = tx
        self.statements = 0

    async def run(
        self, query: str, parameters: dict[str, Any] | None = None, **kwargs: Any
    ) -> AsyncResult:
        self.statements += 1
        return await self.tx.run(query, parameters, **kwargs)


async def append_counting(ledger: Ledger, tx: AsyncManagedTransaction, n: int) -> int:
    counting = CountingTx(tx)
    await ledger.append(cast(AsyncManagedTransaction, counting), [event(n)])
    return counting.statements


async def test_an_append_after_this_services_own_takes_one_round_trip(
    graph: Graph, ledger: Ledger
) -> None:
    await fill(graph, ledger, 2)
    assert await graph.write(partial(append_counting, ledger), 2) == 1
    assert await graph.write(partial(append_counting, ledger), 3) == 1


async def test_two_services_appending_in_turn_build_on_the_committed_head(
    graph: Graph, ledger: Ledger
) -> None:
    """Two processes of the service (two ``Ledger`` objects, one key): each one's guess of the
    head is wrong whenever the other appended last, and then costs a second round trip."""
    other = Ledger(ledger.signer)
    await fill(graph, ledger, 1)
    counts = []
    for i in range(1, 9):
        writer = other if i % 2 else ledger
        counts.append(await graph.write(partial(append_counting, writer), i))
    assert counts == [2] * 8  # the other service had appended last every time
    assert await graph.write(partial(append_counting, ledger), 9) == 1  # it appended last

    both = await asyncio.gather(
        *(graph.write(w.append, [event(100 + i)]) for i in range(20) for w in (ledger, other))
    )
    assert sorted(r.seq for (r,) in both) == list(range(10, 50))
    report = await verify(graph, ledger.signer)
    assert report.ok, report.problems
    rows = await graph.read(repo.entries_from, 0, 100)
    times = [row["time"] for row in sorted(rows, key=lambda row: row["seq"])]
    assert times == sorted(times)  # times follow sequence numbers
