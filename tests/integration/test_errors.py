"""Error responses: typed bodies, field-level validation messages, no stack traces, body limit,
and one transaction per request (a refused write leaves nothing behind)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from neo4j import AsyncManagedTransaction

from kgservice.app import create_app
from kgservice.errors import CreatedConcurrently
from kgservice.graph.database import Graph
from kgservice.settings import ApiSettings, Settings
from tests.integration.conftest import bearer

pytestmark = pytest.mark.anyio


async def test_validation_errors_name_the_field_without_echoing_values(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    r = await client.post(
        "/v1/institutions",
        json={"id": "BAD ID!", "name": "x", "tier": "palace"},
        headers=bearer(keys["demo admin"]),
    )
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "invalid_request"
    locs = {tuple(d["loc"]) for d in body["detail"]}
    assert ("body", "id") in locs
    assert ("body", "tier") in locs
    assert "BAD ID!" not in r.text
    assert "palace" not in r.text


async def test_unknown_route_has_the_same_error_shape(client: httpx.AsyncClient) -> None:
    r = await client.get("/v1/nothing-here")
    assert r.status_code == 404
    assert set(r.json()) == {"error", "detail"}


async def test_a_refused_write_leaves_no_ledger_entry(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    admin = bearer(keys["demo admin"])
    before = (await client.get("/v1/ledger/checkpoint", headers=admin)).json()["checkpoint"]
    dup = {"id": "hosp-a", "name": "again", "tier": "other"}
    r = await client.post("/v1/institutions", json=dup, headers=admin)
    assert r.status_code == 409
    assert r.json()["error"] == "conflict"
    after = (await client.get("/v1/ledger/checkpoint", headers=admin)).json()["checkpoint"]
    assert after == before


async def test_a_unique_key_created_twice_at_once_is_a_409(graph: Graph) -> None:
    """The second of two transactions creating the same unique key waits for the first and
    then breaks the constraint; run once more (a unit of work that looks its key up first
    would now find it), it breaks it again: a conflict, not an internal error."""
    created, release = asyncio.Event(), asyncio.Event()
    make = "CREATE (:Principal {id: 'prn_twice', key_id: $k})"

    async def first(tx: AsyncManagedTransaction) -> None:
        await (await tx.run(make, k="k1")).consume()
        created.set()
        await release.wait()

    async def second(tx: AsyncManagedTransaction) -> None:
        await (await tx.run(make, k="k2")).consume()

    held = asyncio.create_task(graph.write(first))
    await created.wait()
    other = asyncio.create_task(graph.write(second))
    await asyncio.sleep(0.5)
    assert not other.done()  # Neo4j holds it until the first ends
    release.set()
    await held
    with pytest.raises(CreatedConcurrently) as refused:
        await other
    assert refused.value.status_code == 409


@pytest.fixture
async def small_app(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(settings.model_copy(update={"api": ApiSettings(max_body_bytes=1000)}))

    @app.get("/v1/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    async with app.router.lifespan_context(app):
        yield app


async def test_body_limit_and_unexpected_errors(small_app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=small_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        big = await c.post("/v1/institutions", content=b"x" * 5000)
        assert big.status_code == 413
        assert big.json()["error"] == "payload_too_large"

        async def chunked() -> AsyncIterator[bytes]:  # no Content-Length: counted as it streams
            yield b"x" * 600
            yield b"y" * 600

        chunks = await c.post("/v1/institutions", content=chunked())
        assert chunks.status_code == 413
        r = await c.get("/v1/boom")
        assert r.status_code == 500
        assert r.json()["error"] == "internal_error"
        assert "hunter2" not in r.text
        assert "Traceback" not in r.text


async def test_requests_beyond_capacity_get_a_prompt_503(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"api": ApiSettings(max_in_flight=1)}))
    release = asyncio.Event()

    @app.get("/v1/slow")
    async def slow() -> dict[str, str]:
        await release.wait()
        return {"status": "done"}

    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c,
    ):
        first = asyncio.create_task(c.get("/v1/slow"))
        await asyncio.sleep(0.05)
        refused = await c.get("/v1/slow")
        assert refused.status_code == 503
        assert refused.json()["error"] == "overloaded"
        assert refused.headers["retry-after"] == "1"
        assert (await c.get("/v1/health")).status_code == 200  # never refused
        release.set()
        assert (await first).status_code == 200
        assert (await c.get("/v1/whoami")).status_code == 401  # capacity is back
