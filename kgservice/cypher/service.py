"""Running an analyst's Cypher: read-only, time-limited, row-limited, results made JSON.

Read-only is enforced by the server: the query runs in a READ transaction, and Neo4j refuses any
write inside one (Neo.ClientError.Statement.AccessMode). That is not authorisation by itself —
anyone with database credentials could open a write transaction — which is why analysts get API
keys, never Neo4j credentials.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from neo4j import AsyncManagedTransaction
from neo4j.graph import Node, Path, Relationship
from neo4j.time import Date, DateTime, Duration, Time

from kgservice.errors import BadRequest, Forbidden


class CypherRefused(Forbidden):
    code = "read_only"


class CypherFailed(BadRequest):
    code = "cypher_error"


def to_json(value: Any) -> Any:
    """Driver values as JSON: nodes and relationships as maps, temporals as ISO 8601."""
    if isinstance(value, Node):
        return {"labels": sorted(value.labels), "properties": to_json(dict(value))}
    if isinstance(value, Relationship):
        return {"type": value.type, "properties": to_json(dict(value))}
    if isinstance(value, Path):
        return {
            "nodes": [to_json(n) for n in value.nodes],
            "relationships": [to_json(r) for r in value.relationships],
        }
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, DateTime | Date | Time | datetime | date | time):
        return value.isoformat()
    if isinstance(value, Duration | timedelta):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


async def run_read(
    tx: AsyncManagedTransaction, query: str, parameters: dict[str, Any], max_rows: int
) -> tuple[list[str], list[list[Any]], bool]:
    """Columns, up to ``max_rows`` rows, and whether more rows were left unread."""
    result = await tx.run(query, parameters)
    columns = list(result.keys())
    rows: list[list[Any]] = []
    truncated = False
    async for record in result:
        if len(rows) == max_rows:
            truncated = True
            break
        rows.append([to_json(v) for v in record.values()])
    await result.consume()
    return columns, rows, truncated
