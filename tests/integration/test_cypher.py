"""Analysts' read-only Cypher: results, write refusal, row and time limits."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from kgservice.app import create_app
from kgservice.settings import CypherSettings, Settings
from tests.integration.conftest import bearer

pytestmark = pytest.mark.anyio


async def run(client: httpx.AsyncClient, key: str, query: str, **params: object) -> httpx.Response:
    return await client.post(
        "/v1/cypher", json={"query": query, "parameters": params}, headers=bearer(key)
    )


async def test_read_queries_return_columns_and_rows(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    r = await run(
        client,
        keys["alliance analyst"],
        "MATCH (i:Institution) WHERE i.tier = $tier RETURN i.id AS id, i ORDER BY id",
        tier="community_health_centre",
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["columns"] == ["id", "i"]
    assert [row[0] for row in body["rows"]] == ["clinic-b", "clinic-c"]
    assert body["rows"][0][1]["labels"] == ["Institution"]
    assert body["truncated"] is False


@pytest.mark.parametrize(
    "query",
    [
        "CREATE (x:Hack) RETURN x",
        "MATCH (i:Institution) SET i.name = 'pwned'",
        "MATCH (n) DETACH DELETE n",
        "MERGE (x:Hack {id: 1})",
    ],
)
async def test_writes_are_refused_with_403(
    client: httpx.AsyncClient, keys: dict[str, str], query: str
) -> None:
    r = await run(client, keys["alliance analyst"], query)
    assert r.status_code == 403
    assert r.json()["error"] == "read_only"
    names = await run(client, keys["alliance analyst"], "MATCH (i:Institution) RETURN i.name")
    assert "pwned" not in names.text
    assert (await run(client, keys["alliance analyst"], "MATCH (x:Hack) RETURN x")).json()[
        "rows"
    ] == []


async def test_syntax_errors_are_400(client: httpx.AsyncClient, keys: dict[str, str]) -> None:
    r = await run(client, keys["alliance analyst"], "MATCH (n RETURN n")
    assert r.status_code == 400
    assert r.json()["error"] == "cypher_error"


@pytest.fixture
async def limited(
    settings: Settings, client: httpx.AsyncClient
) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = create_app(
        settings.model_copy(update={"cypher": CypherSettings(timeout_s=1.0, max_rows=5)})
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c,
    ):
        yield c


async def test_row_and_time_limits(limited: httpx.AsyncClient, keys: dict[str, str]) -> None:
    r = await run(limited, keys["alliance analyst"], "UNWIND range(1, 100) AS x RETURN x")
    assert r.status_code == 200
    assert len(r.json()["rows"]) == 5
    assert r.json()["truncated"] is True
    query = "UNWIND range(1, 100000000) AS x WITH x WHERE x % 7 = 3 RETURN count(x)"
    slow = await run(limited, keys["alliance analyst"], query)
    assert slow.status_code == 400
    assert "longer than 1 s" in slow.json()["detail"]
