"""/v1/health while Neo4j is up, down, and back — through a proxy the test can cut."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlparse

import httpx
import pytest
from fastapi import FastAPI
from neo4j import AsyncManagedTransaction

from kgservice.app import create_app
from kgservice.errors import GraphUnavailable
from kgservice.graph.database import Graph, create_driver
from kgservice.settings import Neo4jSettings, Settings
from tests.integration.tcpproxy import TcpProxy

pytestmark = pytest.mark.anyio


@pytest.fixture
async def proxy(settings: Settings) -> AsyncIterator[TcpProxy]:
    port = urlparse(settings.neo4j_uri).port or 7687
    p = TcpProxy(port)
    await p.start()
    yield p
    await p.stop()


@asynccontextmanager
async def _served_through(
    settings: Settings, proxy: TcpProxy
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The app, connected to Neo4j through ``proxy``, and a client for it."""
    neo4j = Neo4jSettings(
        **{**settings.neo4j.model_dump(), "uri": f"bolt://127.0.0.1:{proxy.port}"},
    )
    app = create_app(settings.model_copy(update={"neo4j": neo4j}))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c,
    ):
        yield app, c


async def test_health_reports_the_neo4j_version(client: httpx.AsyncClient) -> None:
    r = await client.get("/v1/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["neo4j"]["version"].startswith("5.26")
    assert body["neo4j"]["edition"] == "community"


async def test_health_is_503_while_neo4j_is_down_and_recovers(
    settings: Settings, graph: Graph, proxy: TcpProxy
) -> None:
    async with _served_through(settings, proxy) as (_, c):
        assert (await c.get("/v1/health")).status_code == 200
        await proxy.stop()
        down = await c.get("/v1/health")
        assert down.status_code == 503
        assert down.json()["error"] == "graph_unavailable"
        assert "Traceback" not in down.text
        await proxy.start()
        assert (await c.get("/v1/health")).status_code == 200


async def test_service_starts_while_neo4j_is_down_and_creates_its_schema_later(
    settings: Settings, graph: Graph, proxy: TcpProxy
) -> None:
    await proxy.stop()
    async with _served_through(settings, proxy) as (app, c):
        started = time.monotonic()
        assert (await c.get("/v1/health")).status_code == 503
        assert time.monotonic() - started < 3, "a load balancer needs a prompt 503"
        await proxy.start()
        r = await c.get("/v1/health")
        assert r.status_code == 200
        assert app.state.runtime.schema_ready


async def test_a_hung_server_is_a_prompt_503_and_the_next_unit_reconnects(
    settings: Settings, graph: Graph, proxy: TcpProxy
) -> None:
    # The server sends no receive-timeout hint, so the driver never times a read: the unit of
    # work's deadline is what notices that nothing comes back.
    neo4j = Neo4jSettings(
        **{**settings.neo4j.model_dump(), "uri": f"bolt://127.0.0.1:{proxy.port}"}
    )
    through = Graph(
        create_driver(settings.model_copy(update={"neo4j": neo4j})),
        settings.neo4j.database,
        timeout_s=1.0,
        deadline_s=2.0,
    )

    async def one(tx: AsyncManagedTransaction) -> int:
        record = await (await tx.run("RETURN 1 AS one")).single(strict=True)
        return int(record["one"])

    try:
        assert await through.read(one) == 1
        proxy.hang()
        started = time.monotonic()
        with pytest.raises(GraphUnavailable, match="did not answer in time"):
            # The test's own bound, so a regression fails here instead of hanging the suite.
            await asyncio.wait_for(through.read(one), 10)
        assert time.monotonic() - started < 4
        proxy.resume()
        assert await through.read(one) == 1
    finally:
        await through.close()
