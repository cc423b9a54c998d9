"""All Cypher for review items."""

from __future__ import annotations

from typing import Any

from neo4j import AsyncManagedTransaction

from kgservice.graph.schema import SchemaPart

SCHEMA = SchemaPart(
    constraints=("CREATE CONSTRAINT review_id IF NOT EXISTS FOR (r:Review) REQUIRE r.id IS UNIQUE",)
)

_FIELDS = (
    "r {.id, .decision, .kind, .status, .holder, .requester, .rules, .created, .claimed_by, "
    ".decided_by, .outcome, .reason, .grant} AS review"
)
# Review items for decisions created earlier in the same statement (Ledger.append's writes).
CREATE_MANY = """
UNWIND $reviews AS row
MATCH (d:Decision {id: row.decision}) USING INDEX d:Decision(id)
CREATE (r:Review {id: row.id, decision: row.decision, kind: row.kind, status: 'open',
                  holder: row.holder, requester: row.requester, rules: row.rules,
                  created: row.created})
CREATE (r)-[:ABOUT]->(d)
"""
GET = f"MATCH (r:Review {{id: $id}}) RETURN {_FIELDS}"
LIST = f"""
MATCH (r:Review) WHERE $status IS NULL OR r.status = $status
RETURN {_FIELDS} ORDER BY r.created LIMIT 500
"""
CLAIM = f"""
MATCH (r:Review {{id: $id}}) WHERE r.status = 'open'
SET r.status = 'claimed', r.claimed_by = $by, r.claimed_at = $time
RETURN {_FIELDS}
"""
DECIDE = f"""
MATCH (r:Review {{id: $id}}) WHERE r.status = 'claimed' AND r.claimed_by = $by
SET r.status = 'decided', r.decided_by = $by, r.decided_at = $time, r.outcome = $outcome,
    r.reason = $reason, r.grant = $grant
RETURN {_FIELDS}
"""
DECISION_REQUEST = (
    "MATCH (d:Decision {id: $id}) RETURN d.request AS request, d.requester AS requester"
)
DECISION_USER = "MATCH (d:Decision {id: $id}) RETURN d.user AS user"


async def get(tx: AsyncManagedTransaction, review_id: str) -> dict[str, Any] | None:
    record = await (await tx.run(GET, id=review_id)).single()
    return None if record is None else dict(record["review"])


async def list_reviews(tx: AsyncManagedTransaction, status: str | None) -> list[dict[str, Any]]:
    return [dict(r["review"]) async for r in await tx.run(LIST, status=status)]


async def claim(
    tx: AsyncManagedTransaction, review_id: str, by: str, time: str
) -> dict[str, Any] | None:
    record = await (await tx.run(CLAIM, id=review_id, by=by, time=time)).single()
    return None if record is None else dict(record["review"])


async def decide(tx: AsyncManagedTransaction, **props: Any) -> dict[str, Any] | None:
    record = await (await tx.run(DECIDE, props)).single()
    return None if record is None else dict(record["review"])


async def decision_user(tx: AsyncManagedTransaction, decision_id: str) -> str:
    record = await (await tx.run(DECISION_USER, id=decision_id)).single(strict=True)
    return str(record["user"])


async def decision_request(tx: AsyncManagedTransaction, decision_id: str) -> tuple[str, str]:
    record = await (await tx.run(DECISION_REQUEST, id=decision_id)).single(strict=True)
    return str(record["request"]), str(record["requester"])
