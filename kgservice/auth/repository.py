"""All Cypher for principals and their keys."""

from __future__ import annotations

from typing import Any

from neo4j import AsyncManagedTransaction

from kgservice.graph.database import Runner
from kgservice.graph.schema import SchemaPart

SCHEMA = SchemaPart(
    constraints=(
        "CREATE CONSTRAINT principal_id IF NOT EXISTS FOR (p:Principal) REQUIRE p.id IS UNIQUE",
        "CREATE CONSTRAINT principal_key_id IF NOT EXISTS "
        "FOR (p:Principal) REQUIRE p.key_id IS UNIQUE",
    )
)

_FIELDS = "p {.id, .name, .role, .institution, .created, .revoked} AS principal"

CREATE = f"""
CREATE (p:Principal {{id: $id, name: $name, role: $role, institution: $institution,
                      key_id: $key_id, key_hash: $key_hash, created: $created}})
WITH p
OPTIONAL MATCH (i:Institution {{id: $institution}})
FOREACH (_ IN CASE WHEN i IS NULL THEN [] ELSE [1] END | MERGE (p)-[:MEMBER_OF]->(i))
RETURN {_FIELDS}
"""
BY_KEY_IDS = (
    "UNWIND $key_ids AS k MATCH (p:Principal {key_id: k}) WHERE p.revoked IS NULL "
    f"RETURN k AS key_id, p.key_hash AS key_hash, {_FIELDS}"
)
GET = f"MATCH (p:Principal {{id: $id}}) RETURN {_FIELDS}"
LIST = f"MATCH (p:Principal) RETURN {_FIELDS} ORDER BY p.created, p.id"
REVOKE = (
    "MATCH (p:Principal {id: $id}) WHERE p.revoked IS NULL "
    f"SET p.revoked = $time RETURN {_FIELDS}"
)


async def create(tx: AsyncManagedTransaction, **props: Any) -> dict[str, Any]:
    record = await (await tx.run(CREATE, props)).single(strict=True)
    return dict(record["principal"])


async def by_key_ids(tx: Runner, key_ids: list[str]) -> dict[str, tuple[str, dict[str, Any]]]:
    """The active principals holding these key ids: key id → (key hash, principal)."""
    result = await tx.run(BY_KEY_IDS, key_ids=key_ids)
    return {r["key_id"]: (r["key_hash"], dict(r["principal"])) async for r in result}


async def get(tx: AsyncManagedTransaction, principal_id: str) -> dict[str, Any] | None:
    record = await (await tx.run(GET, id=principal_id)).single()
    return None if record is None else dict(record["principal"])


async def list_all(tx: AsyncManagedTransaction) -> list[dict[str, Any]]:
    return [dict(r["principal"]) async for r in await tx.run(LIST)]


async def revoke(
    tx: AsyncManagedTransaction, principal_id: str, time: str
) -> dict[str, Any] | None:
    record = await (await tx.run(REVOKE, id=principal_id, time=time)).single()
    return None if record is None else dict(record["principal"])
