"""Constraints, indexes and singleton nodes, created idempotently when the service starts.

Community edition has uniqueness constraints only (no existence or type constraints), so the
service validates shapes itself; these constraints are the backstop against duplicates under
concurrency (above all the ledger's sequence numbers).
"""

from __future__ import annotations

import asyncio
import time

from neo4j import AsyncManagedTransaction

from kgservice.errors import GraphUnavailable
from kgservice.graph.database import Graph
from kgservice.ledger.repository import HEAD_ID

CONSTRAINTS = (
    "CREATE CONSTRAINT ledger_entry_seq IF NOT EXISTS FOR (e:LedgerEntry) REQUIRE e.seq IS UNIQUE",
    "CREATE CONSTRAINT ledger_head_id IF NOT EXISTS FOR (h:LedgerHead) REQUIRE h.id IS UNIQUE",
    "CREATE CONSTRAINT principal_id IF NOT EXISTS FOR (p:Principal) REQUIRE p.id IS UNIQUE",
    "CREATE CONSTRAINT principal_key_id IF NOT EXISTS FOR (p:Principal) REQUIRE p.key_id IS UNIQUE",
    "CREATE CONSTRAINT institution_id IF NOT EXISTS FOR (i:Institution) REQUIRE i.id IS UNIQUE",
    # Idempotent submissions: one Source per (institution, SHA-256 of the bytes).
    "CREATE CONSTRAINT source_key IF NOT EXISTS FOR (s:Source) REQUIRE s.key IS UNIQUE",
    "CREATE CONSTRAINT record_id IF NOT EXISTS FOR (r:Record) REQUIRE r.id IS UNIQUE",
    # No constraint on Field.id: a field's id is its record's (unique, above) plus its position,
    # so it cannot repeat, and the index behind a constraint cost ~15 % of Neo4j's work per
    # stored field (measured). Dropped where an earlier version created it.
    "DROP CONSTRAINT field_id IF EXISTS",
    "CREATE CONSTRAINT patient_pseudonym IF NOT EXISTS "
    "FOR (p:Patient) REQUIRE p.pseudonym IS UNIQUE",
    "CREATE CONSTRAINT consent_id IF NOT EXISTS FOR (c:Consent) REQUIRE c.id IS UNIQUE",
    "CREATE CONSTRAINT decision_id IF NOT EXISTS FOR (d:Decision) REQUIRE d.id IS UNIQUE",
    "CREATE CONSTRAINT grant_id IF NOT EXISTS FOR (g:Grant) REQUIRE g.id IS UNIQUE",
    "CREATE CONSTRAINT review_id IF NOT EXISTS FOR (r:Review) REQUIRE r.id IS UNIQUE",
    "CREATE CONSTRAINT ruleset_hash IF NOT EXISTS FOR (r:RuleSet) REQUIRE r.hash IS UNIQUE",
    "CREATE CONSTRAINT settlement_id IF NOT EXISTS FOR (s:Settlement) REQUIRE s.id IS UNIQUE",
    "CREATE CONSTRAINT points_account_id IF NOT EXISTS "
    "FOR (a:PointsAccount) REQUIRE a.id IS UNIQUE",
    "CREATE CONSTRAINT catalogue_item_id IF NOT EXISTS "
    "FOR (c:CatalogueItem) REQUIRE c.id IS UNIQUE",
    "CREATE CONSTRAINT redemption_id IF NOT EXISTS FOR (r:Redemption) REQUIRE r.id IS UNIQUE",
)

INDEXES = (
    "CREATE INDEX ledger_entry_type IF NOT EXISTS FOR (e:LedgerEntry) ON (e.type)",
    "CREATE INDEX ledger_entry_institution IF NOT EXISTS FOR (e:LedgerEntry) ON (e.institution)",
    "CREATE INDEX field_kind IF NOT EXISTS FOR (f:Field) ON (f.kind)",
    "CREATE INDEX contribution_institution IF NOT EXISTS FOR (c:Contribution) ON (c.institution)",
    "CREATE INDEX consent_patient_holder IF NOT EXISTS FOR (c:Consent) ON (c.patient, c.holder)",
    "CREATE INDEX points_entry_account IF NOT EXISTS FOR (e:PointsEntry) ON (e.account)",
    # The decision lookup's, which keeps its plan (kgservice/decisions/repository.py).
    "CREATE INDEX grant_holder_grantee IF NOT EXISTS FOR (g:Grant) ON (g.holder, g.grantee)",
    "CREATE INDEX ruleset_status IF NOT EXISTS FOR (r:RuleSet) ON (r.status)",
)

UNREADY = "SHOW INDEXES YIELD name, state WHERE state <> 'ONLINE' RETURN name, state"
# How long one call waits for indexes being built before the request that made it gets a 503
# (the next request waits again): within one unit of work's deadline.
PATIENCE_S = 20.0

# The ledger head is the lock every append takes first; it must exist before the first append.
ENSURE_HEAD = (
    "MERGE (h:LedgerHead {id: $id}) ON CREATE SET h.size = 0, h.frontier = [], h.root = null"
)


async def _run(tx: AsyncManagedTransaction, /, statement: str, **params: object) -> None:
    await tx.run(statement, params)


async def ensure_schema(graph: Graph) -> None:
    """Create constraints, indexes and the ledger head if missing. Safe to call repeatedly.

    Schema commands cannot share a transaction with data writes, so each runs on its own.
    """
    for statement in CONSTRAINTS + INDEXES:
        await graph.write(_run, statement)
    await await_indexes(graph)
    await graph.write(_run, ENSURE_HEAD, id=HEAD_ID)


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
