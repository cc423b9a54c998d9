"""The FastAPI application: ``create_app()`` wires routers, middleware and error handlers;
the lifespan owns, for the life of the process, the Neo4j driver, the ledger key, the checking
process and the decision engine."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from kgservice import __version__, heap
from kgservice.auth import service as principals
from kgservice.auth.endpoints import router as principals_router
from kgservice.consents.endpoints import router as consents_router
from kgservice.cypher.endpoints import router as cypher_router
from kgservice.decisions.endpoints import router as decisions_router
from kgservice.decisions.engine import DecisionEngine
from kgservice.deps import Runtime
from kgservice.errors import ErrorBody, GraphUnavailable, NotAuthenticated, ShieldError
from kgservice.grants.endpoints import router as grants_router
from kgservice.graph.database import Graph, create_driver
from kgservice.graph.grouping import Batcher
from kgservice.health.endpoints import router as health_router
from kgservice.institutions.endpoints import router as institutions_router
from kgservice.ledger.endpoints import router as ledger_router
from kgservice.ledger.service import Ledger
from kgservice.ledger.signing import load_signer
from kgservice.middleware import BodyLimit, InFlightLimit
from kgservice.records.checking import Checker
from kgservice.records.endpoints import router as records_router
from kgservice.records.protection import load_protector
from kgservice.reviews.endpoints import router as reviews_router
from kgservice.rulesets.endpoints import router as rulesets_router
from kgservice.settings import Settings, get_settings
from kgservice.settlements.endpoints import router as settlements_router
from kgservice.training.endpoints import router as training_router
from kgservice.training.service import reap_orphans

log = logging.getLogger("kgservice")


def _error(
    status: int, code: str, detail: object, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    body = ErrorBody.model_validate({"error": code, "detail": detail})
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


async def _shield_error(_: Request, raised: Exception) -> JSONResponse:
    exc = cast(ShieldError, raised)
    if exc.status_code >= 500:
        log.warning("%s: %s", exc.code, exc.detail, exc_info=exc.__cause__)
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, NotAuthenticated) else None
    body = {**ErrorBody(error=exc.code, detail=exc.detail).model_dump(), **exc.extra()}
    return JSONResponse(body, status_code=exc.status_code, headers=headers)


async def _validation_error(_: Request, raised: Exception) -> JSONResponse:
    exc = cast(RequestValidationError, raised)
    # Name what is wrong and where; do not echo the submitted values back.
    fields = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
    return _error(422, "invalid_request", fields)


async def _http_error(_: Request, raised: Exception) -> JSONResponse:
    exc = cast(StarletteHTTPException, raised)
    return _error(exc.status_code, "http_error", str(exc.detail), exc.headers)


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    # A bug, not an expected outcome: log it with a reference the caller can quote; the body
    # carries no stack trace, query or data.
    incident = secrets.token_hex(6)
    log.error("unhandled error, incident %s", incident, exc_info=exc)
    return _error(500, "internal_error", f"internal error; quote incident {incident}")


def create_app(settings: Settings | None = None, checker: Checker | None = None) -> FastAPI:
    """The service. ``checker``: a running one to share (the tests' single worker process);
    by default the app starts its own and stops it at shutdown."""
    cfg = settings or get_settings()
    shared = checker

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        checker = shared or Checker(cfg.api.check_workers)
        if shared is None:
            checker.start()
        graph = Graph(create_driver(cfg), cfg.neo4j.database, cfg.neo4j.transaction_timeout_s)
        ledger = Ledger(load_signer(cfg))
        runtime = Runtime(
            cfg,
            graph,
            ledger,
            checker,
            load_protector(cfg),
            DecisionEngine(graph, ledger, cfg.decisions),
            Batcher.reading(graph, principals.authenticate_many),
        )
        app.state.runtime = runtime
        heap.settle()
        try:
            await runtime.ready_graph()
            orphans = await reap_orphans(graph, runtime.ledger)
            if orphans:
                log.warning("training jobs orphaned by an earlier process: %s", ", ".join(orphans))
        except GraphUnavailable:
            # Start anyway: /v1/health answers 503 and the schema is created once Neo4j is back.
            log.warning("Neo4j at %s is not reachable yet; serving 503 until it is", cfg.neo4j_uri)
        try:
            yield
        finally:
            # Training jobs stop their Flower processes and are recorded as failed before the
            # driver closes.
            runtime.stopping.set()
            if runtime.background:
                await asyncio.wait(runtime.background, timeout=30)
            if shared is None:
                checker.close()
            await graph.close()

    app = FastAPI(
        title="Health Shield (健康算法盾)",
        version=__version__,
        summary="Knowledge-graph compliance service for health data",
        lifespan=lifespan,
    )
    app.add_middleware(BodyLimit, limit=cfg.api.max_body_bytes)
    app.add_middleware(InFlightLimit, limit=cfg.api.max_in_flight)
    app.add_exception_handler(ShieldError, _shield_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
    for router in (
        health_router,
        principals_router,
        institutions_router,
        ledger_router,
        records_router,
        cypher_router,
        consents_router,
        decisions_router,
        grants_router,
        reviews_router,
        rulesets_router,
        settlements_router,
        training_router,
    ):
        app.include_router(router)
    return app
