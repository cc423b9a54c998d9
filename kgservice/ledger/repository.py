"""All Cypher of the ledger. Values are always parameters.

Graph shape: one ``(:LedgerHead {id})`` holding the tree state (size, frontier, latest signed
head) and one ``(:LedgerEntry {seq})`` per event. An entry also stores the hashes of the perfect
subtrees it completed (``subtrees``, level 1 upwards), which is what proofs are built from.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from neo4j import AsyncManagedTransaction, ManagedTransaction

from kgservice.graph.database import Runner
from kgservice.graph.plans import fixed
from kgservice.graph.schema import SchemaPart

HEAD_ID = "main"

# A write of the caller's to make with an append: a statement without RETURN, and its parameters.
Write = tuple[str, dict[str, Any]]

# The head is the lock every append takes first: it must exist before the first append.
ENSURE_HEAD = (
    "MERGE (h:LedgerHead {id: $id}) ON CREATE SET h.size = 0, h.frontier = [], h.root = null"
)
SCHEMA = SchemaPart(
    constraints=(
        # Sequence numbers are assigned under the head's lock; this is the backstop.
        "CREATE CONSTRAINT ledger_entry_seq IF NOT EXISTS "
        "FOR (e:LedgerEntry) REQUIRE e.seq IS UNIQUE",
        "CREATE CONSTRAINT ledger_head_id IF NOT EXISTS FOR (h:LedgerHead) REQUIRE h.id IS UNIQUE",
    ),
    indexes=(
        "CREATE INDEX ledger_entry_type IF NOT EXISTS FOR (e:LedgerEntry) ON (e.type)",
        "CREATE INDEX ledger_entry_institution IF NOT EXISTS "
        "FOR (e:LedgerEntry) ON (e.institution)",
    ),
    seeds=((ENSURE_HEAD, {"id": HEAD_ID}),),
)

# One round trip per append. Writing the head first takes its write lock; every append queues
# here, so sequence numbers are assigned one transaction at a time. The head is then matched
# again, after the aggregation has finished the write, so its state is read under the lock: the
# latest committed one. The caller sends entries built on the state it expects the head to be in
# (``at_size``, ``at_root``); they, the new head state and the caller's writes (``_IF_AT``) are
# made only if the head is in that state, and the head as read under the lock is returned either
# way. So a wrong guess writes nothing but the lock count, and the statement may be an
# auto-commit transaction (Ledger.append_autocommit). Parameters are one map, ``$ledger``, so the
# caller's writes keep their own names.
_LOCK = """
MATCH (h:LedgerHead {id: $ledger.id}) USING INDEX h:LedgerHead(id)
SET h.lock_count = coalesce(h.lock_count, 0) + 1
WITH count(h) AS locked
MATCH (h:LedgerHead {id: $ledger.id}) USING INDEX h:LedgerHead(id)
WITH h, coalesce(h.size = $ledger.at_size AND h.root = $ledger.at_root, false) AS at
"""
# A caller's guard: a subquery read once the lock is held, returning one column, ``holds``;
# nothing is written unless it returns exactly one row and that holds (``at`` then stands for
# both tests).
_GUARD = """
WITH h, at, COLLECT {{
{statement}
}} AS held
WITH h, at AND held = [true] AS at
"""
# The write is a subquery of its own under the filter, run once per row that passes it: written
# inline, an aggregation in it would make a row out of none and write anyway.
_IF_AT = """
CALL {{
  WITH at
  WITH at WHERE at
  CALL {{
{statement}
  }}
}}
"""
_APPEND_IF_AT = """
CALL {
  WITH h, at
  WITH h WHERE at
  UNWIND $ledger.rows AS row
  CREATE (e:LedgerEntry)
  SET e = row
  WITH h, count(e) AS appended
  SET h += $ledger.head
}
RETURN at AS appended, h.size AS size, h.frontier AS frontier, h.root AS root
"""
READ_HEAD = (
    "MATCH (h:LedgerHead {id: $id}) "
    "RETURN h.size AS size, h.frontier AS frontier, h.root AS root, h.time AS time, "
    "h.key_id AS key_id, h.signature AS signature"
)
# Entries built on the head as read under its lock, which this transaction holds; the caller's
# writes go first (``_ALWAYS``).
APPEND = """
UNWIND $ledger.rows AS row
CREATE (e:LedgerEntry)
SET e = row
WITH count(e) AS appended
MATCH (h:LedgerHead {id: $ledger.id}) USING INDEX h:LedgerHead(id)
SET h += $ledger.head
"""
_ALWAYS = """
CALL {{
{statement}
}}
"""
GET_ENTRY = "MATCH (e:LedgerEntry {seq: $seq}) RETURN e {.*} AS entry"
# One round trip for the two reads every inclusion proof starts with.
HEAD_AND_ENTRY = (
    "MATCH (h:LedgerHead {id: $id}) OPTIONAL MATCH (e:LedgerEntry {seq: $seq}) "
    "RETURN h {.size, .frontier, .root, .time, .key_id, .signature} AS head, e {.*} AS entry"
)
GET_BLOCKS = """
UNWIND $refs AS ref
MATCH (e:LedgerEntry {seq: ref[1]})
RETURN ref[0] AS level, ref[1] AS seq,
       CASE ref[0] WHEN 0 THEN e.leaf_hash ELSE e.subtrees[ref[0] - 1] END AS hash
"""
ENTRIES_FROM = (
    "MATCH (e:LedgerEntry) WHERE e.seq >= $start RETURN e {.*} AS entry ORDER BY e.seq LIMIT $limit"
)


async def lock_and_append_at(
    tx: Runner,
    at: tuple[int, str | None],
    rows: list[dict[str, Any]],
    head: dict[str, Any],
    writes: Sequence[Write] = (),
    guard: Write | None = None,
) -> dict[str, Any]:
    """Lock the head and, if it is at ``at`` (size, root hex) and ``guard`` holds, make
    ``writes`` and append ``rows``; one round trip. Returns ``appended`` and the head's
    ``size``, ``frontier`` and ``root`` as read under the lock (when nothing was appended)."""
    ledger = {"id": HEAD_ID, "at_size": at[0], "at_root": at[1], "rows": rows, "head": head}
    params = _params([*([guard] if guard is not None else []), *writes])
    return await _head(tx, append_at_statement(writes, guard), {**params, "ledger": ledger})


# Every append runs one of these two, and decisions queue behind the append in flight, so they
# keep their plans (kgservice/graph/plans.py): callers' writes and guards must pin every node
# they match with an index hint, as the ledger's own parts do.


def append_at_statement(writes: Sequence[Write] = (), guard: Write | None = None) -> str:
    """``lock_and_append_at``'s statement for these writes and guard."""
    guards = [guard] if guard is not None else []
    return fixed(_LOCK + _text(_GUARD, guards) + _text(_IF_AT, writes) + _APPEND_IF_AT)


def entries_statement(writes: Sequence[Write] = ()) -> str:
    """``write_entries``' statement for these writes."""
    return fixed(_text(_ALWAYS, writes) + APPEND)


def _text(wrap: str, writes: Sequence[Write]) -> str:
    """``writes`` as one piece of a statement, each in ``wrap``."""
    return "".join(wrap.format(statement=text) for text, _ in writes)


def _params(writes: Sequence[Write]) -> dict[str, Any]:
    """All the parameters of ``writes``, whose names must differ from each other's and from
    ``ledger``."""
    params: dict[str, Any] = {}
    for _, own in writes:
        if "ledger" in own or params.keys() & own.keys():
            raise ValueError(f"parameter names clash: {sorted(own)}")
        params.update(own)
    return params


async def read_head(tx: Runner) -> dict[str, Any]:
    return await _head(tx, READ_HEAD, {"id": HEAD_ID})


async def _head(tx: Runner, query: str, params: dict[str, Any]) -> dict[str, Any]:
    record = await (await tx.run(query, params)).single()
    if record is None:
        raise LookupError("the ledger head is missing: the schema was not initialised")
    return dict(record)


async def write_entries(
    tx: AsyncManagedTransaction,
    rows: list[dict[str, Any]],
    head: dict[str, Any],
    writes: Sequence[Write] = (),
) -> None:
    """Make ``writes`` and append ``rows`` on the head this transaction has locked."""
    ledger = {"id": HEAD_ID, "rows": rows, "head": head}
    params = {**_params(writes), "ledger": ledger}
    await (await tx.run(entries_statement(writes), params)).consume()


async def get_entry(tx: Runner, seq: int) -> dict[str, Any] | None:
    result = await tx.run(GET_ENTRY, seq=seq)
    record = await result.single()
    return None if record is None else dict(record["entry"])


async def head_and_entry(tx: Runner, seq: int) -> tuple[dict[str, Any], dict[str, Any] | None]:
    record = await (await tx.run(HEAD_AND_ENTRY, id=HEAD_ID, seq=seq)).single()
    if record is None:
        raise LookupError("the ledger head is missing: the schema was not initialised")
    entry = record["entry"]
    return dict(record["head"]), None if entry is None else dict(entry)


async def get_blocks(tx: Runner, refs: list[tuple[int, int]]) -> dict[tuple[int, int], str]:
    result = await tx.run(GET_BLOCKS, refs=[list(r) for r in refs])
    return {(r["level"], r["seq"]): r["hash"] async for r in result}


async def entries_from(tx: AsyncManagedTransaction, start: int, limit: int) -> list[dict[str, Any]]:
    result = await tx.run(ENTRIES_FROM, start=start, limit=limit)
    return [dict(r["entry"]) async for r in result]


# Synchronous readers for `shield ledger verify`, a batch tool: the sync driver streams a large
# ledger about twice as fast as the async one, whose per-record event-loop turns dominate.


def read_head_sync(tx: ManagedTransaction) -> dict[str, Any]:
    record = tx.run(READ_HEAD, id=HEAD_ID).single()
    if record is None:
        raise LookupError("the ledger head is missing: the schema was not initialised")
    return dict(record)


def entries_from_sync(tx: ManagedTransaction, start: int, limit: int) -> list[dict[str, Any]]:
    return [dict(r["entry"]) for r in tx.run(ENTRIES_FROM, start=start, limit=limit)]
