"""``GET /v1/health``: the only endpoint that needs no key (load balancers and compose call it)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from kgservice import __version__
from kgservice.deps import RuntimeDep
from kgservice.errors import GraphUnavailable, responses

router = APIRouter(tags=["health"])


class Neo4jInfo(BaseModel):
    name: str
    version: str
    edition: str


class Health(BaseModel):
    status: str
    service_version: str
    neo4j: Neo4jInfo


@router.get("/v1/health", responses=responses(GraphUnavailable))
async def health(runtime: RuntimeDep) -> Health:
    """200 with the Neo4j version when the graph is usable; 503 while it is not."""
    info = await runtime.graph.server_info()
    await runtime.ready_graph()
    return Health(status="ok", service_version=__version__, neo4j=Neo4jInfo(**info))
