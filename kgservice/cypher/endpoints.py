"""``POST /v1/cypher``: read-only Cypher for analysts (and auditors and admins)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from neo4j.exceptions import ClientError
from pydantic import BaseModel, Field

from kgservice.auth.access import Allow
from kgservice.auth.models import Principal
from kgservice.auth.roles import Role
from kgservice.cypher.service import CypherFailed, CypherRefused, run_read
from kgservice.deps import GraphDep, RuntimeDep
from kgservice.errors import AUTH_ERRORS, responses
from kgservice.graph.database import Graph

router = APIRouter(prefix="/v1/cypher", tags=["cypher"])


class CypherIn(BaseModel):
    query: str = Field(min_length=1, max_length=20_000)
    parameters: dict[str, Any] = {}


class CypherOut(BaseModel):
    columns: list[str]
    rows: list[list[Any]]
    truncated: bool = Field(description="more rows matched than the row limit returned")


@router.post("", responses=responses(*AUTH_ERRORS, CypherRefused, CypherFailed))
async def cypher(
    body: CypherIn,
    _: Annotated[Principal, Depends(Allow(Role.analyst, Role.auditor, Role.admin))],
    graph: GraphDep,
    runtime: RuntimeDep,
) -> CypherOut:
    """Run one read-only query; writes are refused, time and rows are limited."""
    limits = runtime.settings.cypher
    reader = Graph(graph.driver, graph.database, limits.timeout_s)
    try:
        columns, rows, truncated = await reader.read(
            run_read, body.query, body.parameters, limits.max_rows
        )
    except ClientError as e:
        code = e.code or ""
        if code.endswith("AccessMode") or "write" in (e.message or "").lower():
            raise CypherRefused("analysts' Cypher is read-only: the query tried to write") from e
        if any(word in code for word in ("TimedOut", "Timeout", "Terminated")):
            raise CypherFailed(f"the query ran longer than {limits.timeout_s:g} s") from e
        raise CypherFailed(f"{code.rsplit('.', 1)[-1]}: {e.message}") from e
    return CypherOut(columns=columns, rows=rows, truncated=truncated)
