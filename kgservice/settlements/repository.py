"""All Cypher of settlements, the points ledger, the catalogue and redemptions.

The points ledger is double-entry: a transaction is a set of ``PointsEntry`` nodes, one per account
touched, whose amounts sum to zero; each ``PointsAccount`` keeps its running balance, which is
also the lock a redemption takes before it checks the balance (no double spending).
"""

from __future__ import annotations

from typing import Any

from neo4j import AsyncManagedTransaction

from kgservice.graph.database import Runner
from kgservice.graph.schema import SchemaPart

SCHEMA = SchemaPart(
    constraints=(
        "CREATE CONSTRAINT settlement_id IF NOT EXISTS FOR (s:Settlement) REQUIRE s.id IS UNIQUE",
        "CREATE CONSTRAINT points_account_id IF NOT EXISTS "
        "FOR (a:PointsAccount) REQUIRE a.id IS UNIQUE",
        "CREATE CONSTRAINT catalogue_item_id IF NOT EXISTS "
        "FOR (c:CatalogueItem) REQUIRE c.id IS UNIQUE",
        "CREATE CONSTRAINT redemption_id IF NOT EXISTS FOR (r:Redemption) REQUIRE r.id IS UNIQUE",
    ),
    indexes=("CREATE INDEX points_entry_account IF NOT EXISTS FOR (e:PointsEntry) ON (e.account)",),
)

POST_ENTRIES = """
UNWIND $entries AS e
MERGE (a:PointsAccount {id: e.account})
  ON CREATE SET a.balance = 0, a.institution = e.institution
SET a.balance = a.balance + e.amount
CREATE (a)-[:HAS_ENTRY]->(:PointsEntry {txn: $txn, kind: $kind, ref: $ref, time: $time,
                                         account: e.account, institution: e.institution,
                                         amount: e.amount})
"""
# Writing first takes the account's write lock: concurrent redemptions queue here, and the
# balance read afterwards is the committed one.
LOCK_ACCOUNT = """
MERGE (a:PointsAccount {id: $id}) ON CREATE SET a.balance = 0, a.institution = $institution
SET a.lock_count = coalesce(a.lock_count, 0) + 1
"""
BALANCE = "MATCH (a:PointsAccount {id: $id}) RETURN a.balance AS balance"
TOTALS = """
OPTIONAL MATCH (a:PointsAccount {id: $id})
OPTIONAL MATCH (a)-[:HAS_ENTRY]->(e:PointsEntry)
RETURN coalesce(a.balance, 0) AS balance,
       coalesce(sum(CASE WHEN e.amount > 0 THEN e.amount END), 0) AS earned,
       coalesce(-sum(CASE WHEN e.amount < 0 THEN e.amount END), 0) AS spent
"""
HISTORY = """
MATCH (a:PointsAccount {id: $id})-[:HAS_ENTRY]->(e:PointsEntry)
RETURN e.txn AS txn, e.kind AS kind, e.amount AS amount, e.ref AS ref, e.time AS time
ORDER BY e.time DESC, e.txn DESC LIMIT $limit
"""
CREATE_SETTLEMENT = """
CREATE (s:Settlement {id: $id, job: $job, valuation: $valuation, method: $method, pool: $pool,
                      shapley: $shapley, points: $points, remainder_rule: $remainder_rule,
                      game_digest: $game_digest, created: $created, by: $by})
"""
GET_SETTLEMENT = "MATCH (s:Settlement {id: $id}) RETURN s {.*} AS settlement"
KNOWN_INSTITUTIONS = "MATCH (i:Institution) WHERE i.id IN $ids RETURN collect(i.id) AS ids"
CREATE_ITEM = """
MERGE (c:CatalogueItem {id: $id})
  ON CREATE SET c += $item, c.created = $created, c.new = true
WITH c, coalesce(c.new, false) AS created
REMOVE c.new
RETURN created, c {.*} AS item
"""
LIST_ITEMS = "MATCH (c:CatalogueItem) RETURN c {.*} AS item ORDER BY c.id"
GET_ITEM = "MATCH (c:CatalogueItem {id: $id}) RETURN c {.*} AS item"
CREATE_REDEMPTION = """
CREATE (r:Redemption {id: $id, institution: $institution, item: $item, quantity: $quantity,
                      points: $points, created: $created, by: $by})
"""
UNAWARDED = """
MATCH (c:Contribution) WHERE c.awarded IS NULL
RETURN elementId(c) AS ref, c.source AS source, c.institution AS institution,
       c.fields AS fields, c.flagged AS flagged, c.completeness AS completeness,
       c.rare_conditions AS rare_conditions
ORDER BY c.time
"""
MARK_AWARDED = """
UNWIND $awards AS a
MATCH (c:Contribution) WHERE elementId(c) = a.ref
SET c.awarded = $txn, c.points = a.points
"""


async def post(
    tx: AsyncManagedTransaction,
    txn: str,
    kind: str,
    ref: str | None,
    time: str,
    entries: list[dict[str, Any]],
) -> None:
    if sum(int(e["amount"]) for e in entries) != 0:
        raise ValueError("a points transaction must balance")  # a bug, never user input
    await tx.run(POST_ENTRIES, txn=txn, kind=kind, ref=ref, time=time, entries=entries)


async def lock_balance(tx: AsyncManagedTransaction, account: str, institution: str) -> int:
    await tx.run(LOCK_ACCOUNT, id=account, institution=institution)
    record = await (await tx.run(BALANCE, id=account)).single()
    return int(record["balance"]) if record else 0


async def totals(tx: Runner, account: str) -> dict[str, int]:
    record = await (await tx.run(TOTALS, id=account)).single()
    return {k: int(record[k]) for k in ("balance", "earned", "spent")} if record else {}


async def history(tx: Runner, account: str, limit: int) -> list[dict[str, Any]]:
    return [dict(r) async for r in await tx.run(HISTORY, id=account, limit=limit)]


async def known_institutions(tx: Runner, ids: list[str]) -> set[str]:
    record = await (await tx.run(KNOWN_INSTITUTIONS, ids=ids)).single()
    return set(record["ids"]) if record else set()


async def create_settlement(tx: AsyncManagedTransaction, **row: Any) -> None:
    await tx.run(CREATE_SETTLEMENT, **row)


async def get_settlement(tx: Runner, settlement_id: str) -> dict[str, Any] | None:
    record = await (await tx.run(GET_SETTLEMENT, id=settlement_id)).single()
    return None if record is None else dict(record["settlement"])


async def create_item(
    tx: AsyncManagedTransaction, item: dict[str, Any], created: str
) -> tuple[bool, dict[str, Any]]:
    record = await (await tx.run(CREATE_ITEM, id=item["id"], item=item, created=created)).single()
    if record is None:
        raise LookupError("catalogue write returned nothing")
    return bool(record["created"]), dict(record["item"])


async def list_items(tx: Runner) -> list[dict[str, Any]]:
    return [dict(r["item"]) async for r in await tx.run(LIST_ITEMS)]


async def get_item(tx: Runner, item_id: str) -> dict[str, Any] | None:
    record = await (await tx.run(GET_ITEM, id=item_id)).single()
    return None if record is None else dict(record["item"])


async def create_redemption(tx: AsyncManagedTransaction, **row: Any) -> None:
    await tx.run(CREATE_REDEMPTION, **row)


async def unawarded(tx: AsyncManagedTransaction) -> list[dict[str, Any]]:
    return [dict(r) async for r in await tx.run(UNAWARDED)]


async def mark_awarded(tx: AsyncManagedTransaction, txn: str, awards: list[dict[str, Any]]) -> None:
    await tx.run(MARK_AWARDED, txn=txn, awards=awards)
