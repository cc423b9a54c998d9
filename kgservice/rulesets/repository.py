"""All Cypher for rule sets."""

from __future__ import annotations

from typing import Any

from neo4j import AsyncManagedTransaction

from kgservice.graph.database import Runner
from kgservice.graph.schema import SchemaPart

SCHEMA = SchemaPart(
    constraints=(
        "CREATE CONSTRAINT ruleset_hash IF NOT EXISTS FOR (r:RuleSet) REQUIRE r.hash IS UNIQUE",
    ),
    # The active rule set is found by status on every decision (kgservice/decisions/repository.py).
    indexes=("CREATE INDEX ruleset_status IF NOT EXISTS FOR (r:RuleSet) ON (r.status)",),
)

_FIELDS = (
    "r {.hash, .status, .uploaded_by, .uploaded, .approved_by_steward, .approved_by_reviewer, "
    ".activated} AS ruleset"
)
GET = f"MATCH (r:RuleSet {{hash: $hash}}) RETURN {_FIELDS}, r.text AS text"
CREATE = f"""
CREATE (r:RuleSet {{hash: $hash, text: $text, status: 'candidate', uploaded_by: $by,
                    uploaded: $time}})
RETURN {_FIELDS}
"""
ACTIVE_HASH = "MATCH (r:RuleSet {status: 'active'}) RETURN r.hash AS hash"
APPROVE_STEWARD = (
    "MATCH (r:RuleSet {hash: $hash}) WHERE r.status = 'candidate' "
    f"SET r.approved_by_steward = $by RETURN {_FIELDS}"
)
APPROVE_REVIEWER = (
    "MATCH (r:RuleSet {hash: $hash}) WHERE r.status = 'candidate' "
    f"SET r.approved_by_reviewer = $by RETURN {_FIELDS}"
)
ACTIVATE = f"""
OPTIONAL MATCH (old:RuleSet {{status: 'active'}})
SET old.status = 'retired'
WITH count(old) AS retired
MATCH (r:RuleSet {{hash: $hash}})
SET r.status = 'active', r.activated = $time
RETURN {_FIELDS}
"""
PAST = """
MATCH (d:Decision) WHERE d.facts IS NOT NULL
RETURN d.id AS id, d.request AS request, d.facts AS facts
ORDER BY d.decided DESC LIMIT $limit
"""


async def get(tx: Runner, h: str) -> tuple[dict[str, Any], str] | None:
    record = await (await tx.run(GET, hash=h)).single()
    return None if record is None else (dict(record["ruleset"]), str(record["text"]))


async def create(
    tx: AsyncManagedTransaction, h: str, text: str, by: str, time: str
) -> dict[str, Any]:
    record = await (await tx.run(CREATE, hash=h, text=text, by=by, time=time)).single(strict=True)
    return dict(record["ruleset"])


async def active_hash(tx: Runner) -> str | None:
    record = await (await tx.run(ACTIVE_HASH)).single()
    return None if record is None else str(record["hash"])


async def approve(
    tx: AsyncManagedTransaction, h: str, by: str, as_reviewer: bool
) -> dict[str, Any] | None:
    query = APPROVE_REVIEWER if as_reviewer else APPROVE_STEWARD
    record = await (await tx.run(query, hash=h, by=by)).single()
    return None if record is None else dict(record["ruleset"])


async def activate(tx: AsyncManagedTransaction, h: str, time: str) -> dict[str, Any]:
    record = await (await tx.run(ACTIVATE, hash=h, time=time)).single(strict=True)
    return dict(record["ruleset"])


async def past_decisions(tx: AsyncManagedTransaction, limit: int) -> list[dict[str, Any]]:
    return [dict(r) async for r in await tx.run(PAST, limit=limit)]
