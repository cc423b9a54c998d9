"""Fixtures for tests against the real Neo4j.

The server is the one `make test` starts (a separate instance from the development one) or
whatever NEO4J_URI names. Each test starts from an empty database (constraints kept), so tests
never see each other's data. To protect real data, the suite refuses a database that holds
nodes but not the marker it leaves in databases it owns.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from neo4j import GraphDatabase
from neo4j.exceptions import DriverError, Neo4jError
from pydantic import SecretStr

from kgservice.app import create_app
from kgservice.demo import seed
from kgservice.graph.database import Graph, create_driver
from kgservice.ledger.service import Ledger
from kgservice.ledger.signing import generate_key_file, load_signer
from kgservice.records.checking import Checker
from kgservice.schema_registry import ensure_schema
from kgservice.settings import LedgerSettings, ProtectionSettings, Settings, TrainingSettings

MARKER = "HealthShieldTestDatabase"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.neo4j)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ledger") / "signing-key.pem"
    generate_key_file(path)
    return path


@pytest.fixture(scope="session")
def settings(key_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    s = Settings(
        ledger=LedgerSettings(signing_key_file=key_file),
        training=TrainingSettings(directory=tmp_path_factory.mktemp("training")),
        protection=ProtectionSettings(
            pseudonym_key=SecretStr("5a" * 32), encryption_key=SecretStr("c3" * 32)
        ),
    )
    auth = (s.neo4j.user, s.neo4j.password.get_secret_value())
    try:
        with GraphDatabase.driver(
            s.neo4j_uri, auth=auth, notifications_min_severity="OFF"
        ) as driver:
            records, _, _ = driver.execute_query(
                f"OPTIONAL MATCH (m:{MARKER}) WITH count(m) AS marked "
                "OPTIONAL MATCH (n) RETURN marked, count(n) AS nodes"
            )
            if records[0]["nodes"] and not records[0]["marked"]:
                pytest.exit(
                    f"{s.neo4j_uri} holds data the tests did not write; refusing to wipe it. "
                    "Run the tests through `make test` (own server) or point NEO4J_URI at a "
                    "scratch database.",
                    returncode=3,
                )
            driver.execute_query(f"MERGE (:{MARKER})")
    except (DriverError, Neo4jError, OSError) as e:
        pytest.exit(
            f"Neo4j is not reachable at {s.neo4j_uri} ({e}). Start it with `make test` "
            "(or `shield neo4j start`), or set NEO4J_URI.",
            returncode=3,
        )
    return s


async def _wipe(graph: Graph) -> None:
    async with graph.driver.session(database=graph.database) as session:
        result = await session.run(
            f"MATCH (n) WHERE NOT n:{MARKER} "
            "CALL { WITH n DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
        )
        await result.consume()


@pytest.fixture
async def graph(settings: Settings) -> AsyncIterator[Graph]:
    g = Graph(create_driver(settings), settings.neo4j.database, 60.0)
    await _wipe(g)
    await ensure_schema(g)
    yield g
    await g.close()


@pytest.fixture
def ledger(settings: Settings) -> Ledger:
    return Ledger(load_signer(settings))


@pytest.fixture(scope="session")
def checker() -> Iterator[Checker]:
    """One checking process for the whole run: starting one per test would cost ~2 s each."""
    shared = Checker()
    shared.start()
    yield shared
    shared.close()


@pytest.fixture
async def app(settings: Settings, graph: Graph, checker: Checker) -> AsyncIterator[FastAPI]:
    application = create_app(settings, checker)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://shield.test") as c:
        yield c


@pytest.fixture
async def keys(graph: Graph, ledger: Ledger) -> dict[str, str]:
    """The demo alliance (3 institutions, one principal per role): principal name → API key."""
    return await seed(graph, ledger, "test", {})


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
