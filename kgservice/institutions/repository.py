"""All Cypher for institutions."""

from __future__ import annotations

from typing import Any

from neo4j import AsyncManagedTransaction

from kgservice.graph.schema import SchemaPart

SCHEMA = SchemaPart(
    constraints=(
        "CREATE CONSTRAINT institution_id IF NOT EXISTS FOR (i:Institution) REQUIRE i.id IS UNIQUE",
    )
)

_FIELDS = "i {.id, .name, .tier, .created} AS institution"
CREATE = (
    "CREATE (i:Institution {id: $id, name: $name, tier: $tier, created: $created}) "
    f"RETURN {_FIELDS}"
)
GET = f"MATCH (i:Institution {{id: $id}}) RETURN {_FIELDS}"
LIST = f"MATCH (i:Institution) RETURN {_FIELDS} ORDER BY i.id"


async def create(tx: AsyncManagedTransaction, **props: Any) -> dict[str, Any]:
    record = await (await tx.run(CREATE, props)).single(strict=True)
    return dict(record["institution"])


async def get(tx: AsyncManagedTransaction, institution_id: str) -> dict[str, Any] | None:
    record = await (await tx.run(GET, id=institution_id)).single()
    return None if record is None else dict(record["institution"])


async def list_all(tx: AsyncManagedTransaction) -> list[dict[str, Any]]:
    return [dict(r["institution"]) async for r in await tx.run(LIST)]
