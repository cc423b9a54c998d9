"""Helpers for ledger tests: fill the ledger, read it back, and act as an attacker with write
access to Neo4j but without the signing key."""

from __future__ import annotations

from typing import Any

from neo4j import AsyncManagedTransaction

from kgservice.graph.database import Graph
from kgservice.ledger import merkle, tree
from kgservice.ledger import repository as repo
from kgservice.ledger.canonical import Event
from kgservice.ledger.service import Ledger, Receipt, entry_from_row
from kgservice.ledger.signing import Checkpoint, Signer
from kgservice.ledger.verify import Report, verify_stored


def event(i: int, institution: str | None = None) -> Event:
    return Event("test.event", "tester", {"n": i, "note": f"事件 {i}"}, institution)


async def fill(graph: Graph, ledger: Ledger, n: int) -> list[Receipt]:
    receipts: list[Receipt] = []
    for i in range(n):
        receipts += await graph.write(ledger.append, [event(i)])
    return receipts


async def verify(graph: Graph, signer: Signer, checkpoint: Checkpoint | None = None) -> Report:
    """What `shield ledger verify` does, on the test database."""
    return await verify_stored(graph, signer.public, signer.origin, checkpoint)


async def run(graph: Graph, query: str, **params: Any) -> None:
    async def work(tx: AsyncManagedTransaction) -> None:
        await (await tx.run(query, params)).consume()

    await graph.write(work)


async def rehash_from(graph: Graph, start: int) -> None:
    """Recompute every stored hash from ``start`` on and the head, as an attacker who edited
    entries would, so that only the signatures (which need the key) still tell."""
    rows = await graph.read(repo.entries_from, 0, 1_000_000)
    frontier: list[bytes] = []
    updates: list[dict[str, Any]] = []
    for row in rows:
        seq = int(row["seq"])
        leaf = merkle.leaf_hash(entry_from_row(row).leaf_data())
        frontier, (done,) = tree.append(frontier, seq, [leaf])
        if seq >= start:
            updates.append(
                {
                    "seq": seq,
                    "leaf_hash": leaf.hex(),
                    "subtrees": [h.hex() for h in done.completed] or None,
                    "root": done.root.hex(),
                }
            )
    await run(
        graph,
        "UNWIND $rows AS r MATCH (e:LedgerEntry {seq: r.seq}) "
        "SET e.leaf_hash = r.leaf_hash, e.subtrees = r.subtrees, e.root = r.root",
        rows=updates,
    )
    await run(
        graph,
        "MATCH (h:LedgerHead) SET h.size = $size, h.frontier = $frontier, h.root = $root",
        size=len(rows),
        frontier=[h.hex() for h in frontier],
        root=tree.root_of(frontier).hex(),
    )
