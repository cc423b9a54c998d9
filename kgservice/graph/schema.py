"""Constraints, indexes and seed nodes, created idempotently when the service starts.

The graph layer knows no domain: each domain declares what it needs as a ``SchemaPart`` next to
its Cypher (``SCHEMA`` in its repository), and kgservice/schema_registry.py hands them all to
``ensure``. Community edition has uniqueness constraints only (no existence or type
constraints), so the service validates shapes itself; these constraints are the backstop
against duplicates under concurrency (above all the ledger's sequence numbers).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from neo4j import AsyncManagedTransaction

from kgservice.errors import GraphUnavailable
from kgservice.graph.database import Graph


@dataclass(frozen=True)
class SchemaPart:
    """What one domain needs of the graph before it serves: schema commands, each idempotent
    (``IF NOT EXISTS``, ``IF EXISTS``), and seeds, data statements with their parameters that
    must have run before the domain's first write (a lock node, say)."""

    constraints: tuple[str, ...] = ()
    indexes: tuple[str, ...] = ()
    seeds: tuple[tuple[str, Mapping[str, object]], ...] = ()


UNREADY = "SHOW INDEXES YIELD name, state WHERE state <> 'ONLINE' RETURN name, state"
# How long one call waits for indexes being built before the request that made it gets a 503
# (the next request waits again): within one unit of work's deadline.
PATIENCE_S = 20.0


async def _run(
    tx: AsyncManagedTransaction, statement: str, params: Mapping[str, object] | None = None
) -> None:
    await tx.run(statement, dict(params or {}))


async def ensure(graph: Graph, parts: Sequence[SchemaPart]) -> None:
    """Create every part's constraints and indexes if missing, wait until the indexes are online,
    then run the seeds. Safe to call repeatedly.

    Schema commands cannot share a transaction with data writes, so each runs on its own.
    """
    for statement in [c for part in parts for c in part.constraints]:
        await graph.write(_run, statement)
    for statement in [i for part in parts for i in part.indexes]:
        await graph.write(_run, statement)
    await await_indexes(graph)
    for statement, params in [seed for part in parts for seed in part.seeds]:
        await graph.write(_run, statement, params)


async def _unready(tx: AsyncManagedTransaction) -> list[tuple[str, str]]:
    return [(r["name"], r["state"]) async for r in await tx.run(UNREADY)]


async def await_indexes(graph: Graph, patience_s: float = PATIENCE_S) -> None:
    """Return once every index is online; raise GraphUnavailable (503) if one has failed or
    some are still being built after ``patience_s``.

    The decision path's statements keep their first plan and name their indexes in hints
    (kgservice/graph/plans.py). A hint naming an index still being built is dropped with a
    warning (HintedIndexNotFound) and the statement planned with a label scan, which it would
    then keep. So an index added to a populated graph, as an upgrade does, must be online
    before the service takes requests."""
    deadline = time.monotonic() + patience_s
    while unready := await graph.read(_unready):
        problem = index_problem(unready, expired=time.monotonic() >= deadline)
        if problem is not None:
            raise GraphUnavailable(problem)
        await asyncio.sleep(0.2)


def index_problem(unready: list[tuple[str, str]], expired: bool) -> str | None:
    """Why the service cannot start on indexes in these states (name, state), or None to wait
    on."""
    failed = sorted(name for name, state in unready if state == "FAILED")
    if failed:
        return (
            f"index {', '.join(failed)} failed to build: see SHOW INDEXES and the server's "
            "log, then drop it; the service builds it again at its next request"
        )
    if expired:
        names = ", ".join(sorted(name for name, _ in unready))
        return f"the graph's indexes are still being built ({names}); try again shortly"
    return None
