"""All Cypher for grants."""

from __future__ import annotations

from typing import Any

from neo4j import AsyncManagedTransaction

from kgservice.graph.schema import SchemaPart

SCHEMA = SchemaPart(
    constraints=("CREATE CONSTRAINT grant_id IF NOT EXISTS FOR (g:Grant) REQUIRE g.id IS UNIQUE",),
    # The decision lookup's, which keeps its plan (kgservice/decisions/repository.py).
    indexes=(
        "CREATE INDEX grant_holder_grantee IF NOT EXISTS FOR (g:Grant) ON (g.holder, g.grantee)",
    ),
)

_FIELDS = (
    "g {.id, .right, .holder, .grantee, .purposes, .categories, .max_level, .product, "
    ".valid_from, .valid_until, .granted_by, .created, .revoked} AS grant"
)
CREATE = f"""
MATCH (h:Institution {{id: $holder}})
CREATE (g:Grant {{id: $id, right: $right, holder: $holder, grantee: $grantee,
                  purposes: $purposes, categories: $categories, max_level: $max_level,
                  product: $product, valid_from: $valid_from, valid_until: $valid_until,
                  granted_by: $granted_by, created: $created}})
CREATE (h)-[:GRANTED]->(g)
RETURN {_FIELDS}
"""
GET = f"MATCH (g:Grant {{id: $id}}) RETURN {_FIELDS}"
REVOKE = (
    f"MATCH (g:Grant {{id: $id}}) WHERE g.revoked IS NULL SET g.revoked = $time RETURN {_FIELDS}"
)
LIST = (
    "MATCH (g:Grant) WHERE $institution IS NULL OR $institution IN [g.holder, g.grantee] "
    f"RETURN {_FIELDS} ORDER BY g.created"
)
# Is grant g in force now, and does it cover the whole request ``q`` (purpose, categories,
# level)? Asked by the decision lookup (kgservice/decisions/repository.py); kept with the grants
# it is about.
IN_FORCE_AND_COVERS = """
g.revoked IS NULL AND g.valid_from <= $now AND (g.valid_until IS NULL OR g.valid_until > $now)
AND q.purpose IN g.purposes AND all(c IN q.categories WHERE c IN g.categories)
AND g.max_level >= q.level"""


async def create(tx: AsyncManagedTransaction, **props: Any) -> dict[str, Any] | None:
    record = await (await tx.run(CREATE, props)).single()
    return None if record is None else dict(record["grant"])


async def get(tx: AsyncManagedTransaction, grant_id: str) -> dict[str, Any] | None:
    record = await (await tx.run(GET, id=grant_id)).single()
    return None if record is None else dict(record["grant"])


async def revoke(tx: AsyncManagedTransaction, grant_id: str, time: str) -> dict[str, Any] | None:
    record = await (await tx.run(REVOKE, id=grant_id, time=time)).single()
    return None if record is None else dict(record["grant"])


async def list_for(tx: AsyncManagedTransaction, institution: str | None) -> list[dict[str, Any]]:
    return [dict(r["grant"]) async for r in await tx.run(LIST, institution=institution)]
