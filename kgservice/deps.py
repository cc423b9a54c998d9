"""Request-scoped access to the clients the lifespan created (``app.state``)."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from typing import Annotated, cast

from fastapi import Depends, Request

from kgservice.auth.models import Principal
from kgservice.auth.seen import SeenKeys
from kgservice.decisions.engine import DecisionEngine
from kgservice.graph.database import Graph
from kgservice.graph.grouping import Batcher
from kgservice.ledger.service import Ledger
from kgservice.records.checking import Checker
from kgservice.records.protection import Protector
from kgservice.schema_registry import ensure_schema
from kgservice.settings import Settings


@dataclass
class Runtime:
    """Everything the lifespan owns for one process."""

    settings: Settings
    graph: Graph
    ledger: Ledger
    checker: Checker
    protector: Protector
    decisions: DecisionEngine  # every decision of the process goes through it
    principals: Batcher[str, Principal | None]  # concurrent requests' keys, one lookup
    # Keys seen valid, for endpoints that confirm the principal in their own transaction.
    seen_keys: SeenKeys = field(default_factory=SeenKeys)
    schema_ready: bool = False
    # Background jobs (federated training) of this process, referenced until they finish.
    background: set[asyncio.Task[None]] = field(default_factory=set)
    stopping: threading.Event = field(default_factory=threading.Event)
    _schema_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def ready_graph(self) -> Graph:
        """The graph, with the schema ensured once. If Neo4j was down when the service started,
        this is where the schema gets created once it is back (raises 503 until then)."""
        if not self.schema_ready:
            # Probe first: a down server fails this at once, whereas the schema writes would
            # spend the driver's whole retry budget before giving up.
            await self.graph.server_info()
            async with self._schema_lock:
                if not self.schema_ready:
                    await ensure_schema(self.graph)
                    self.schema_ready = True
        return self.graph


# Dependencies are ``async def`` even when they do not await: FastAPI runs a plain ``def``
# dependency in its thread pool, and that hand-off cost more per request than the whole
# red-line check (docs/performance.md).
async def get_runtime(request: Request) -> Runtime:
    return cast(Runtime, request.app.state.runtime)


async def get_graph(runtime: Annotated[Runtime, Depends(get_runtime)]) -> Graph:
    return await runtime.ready_graph()


async def get_ledger(runtime: Annotated[Runtime, Depends(get_runtime)]) -> Ledger:
    return runtime.ledger


GraphDep = Annotated[Graph, Depends(get_graph)]
LedgerDep = Annotated[Ledger, Depends(get_ledger)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
