"""The one Neo4j driver of a process, and units of work on it.

Handlers never open sessions themselves: they call ``Graph.write`` / ``Graph.read`` with a
function of a transaction, so each request is exactly one transaction that commits or rolls back
as a whole (the ledger entry included). Driver errors are wrapped into ``GraphUnavailable`` with
the cause chained, so a Neo4j outage is a 503, never a stack trace.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

import neo4j
from neo4j import (
    AsyncDriver,
    AsyncGraphDatabase,
    AsyncManagedTransaction,
    AsyncSession,
    Driver,
    GraphDatabase,
)
from neo4j.exceptions import (
    ConstraintError,
    DriverError,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
)

from kgservice.errors import CreatedConcurrently, GraphUnavailable
from kgservice.settings import Settings

T = TypeVar("T")
P = ParamSpec("P")
Work = Callable[Concatenate[AsyncManagedTransaction, P], Awaitable[T]]
# What read functions need: something that runs a query. A transaction, or a session whose
# queries are each their own auto-commit transaction (see Graph.read_autocommit).
Runner = AsyncManagedTransaction | AsyncSession
ReadWork = Callable[Concatenate[Runner, P], Awaitable[T]]
AutocommitWork = Callable[Concatenate[AsyncSession, P], Awaitable[T]]

# Errors that mean "the database is not there", as opposed to a bug in a query.
_UNAVAILABLE = (ServiceUnavailable, SessionExpired, OSError)
# How long the driver keeps retrying a unit of work after transient errors.
RETRY_S = 10.0
# Slack beyond the longest a unit of work may legitimately take before the server is taken to
# be hung (see Graph.deadline_s).
GRACE_S = 5.0


def create_driver(settings: Settings) -> AsyncDriver:
    """A driver for the configured server. It connects lazily: creating it never blocks."""
    return AsyncGraphDatabase.driver(
        settings.neo4j_uri,
        auth=(settings.neo4j.user, settings.neo4j.password.get_secret_value()),
        connection_timeout=settings.neo4j.connect_timeout_s,
        max_transaction_retry_time=RETRY_S,
        notifications_min_severity="OFF",
    )


def create_sync_driver(settings: Settings) -> Driver:
    """A blocking driver, for batch tools outside the service (``shield ledger verify``)."""
    return GraphDatabase.driver(
        settings.neo4j_uri,
        auth=(settings.neo4j.user, settings.neo4j.password.get_secret_value()),
        connection_timeout=settings.neo4j.connect_timeout_s,
        notifications_min_severity="OFF",
    )


class Bulk(list[Any]):
    """A large list parameter, packed exactly as a list. The driver renders every statement's
    parameters with repr() for its debug log whether or not debug logging is on (neo4j 5.28,
    ``Bolt5x0.run``): for a 1,000-record submission's rows ~0.05 s of the service's CPU, and,
    were debug logging on, every stored row in the log. Here the log line shows a count."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"<{len(self)} items>"


class Graph:
    """Units of work over one driver and database.

    Each unit of work has a deadline on the client: its transaction timeout (which the server
    enforces), the driver's retries, and a grace period. It is what notices a hung server or a
    connection that went silent. The driver could do this per socket read when the server sends
    a receive-timeout hint, but then it puts a timer task on every read: ~20 % of its CPU per
    query (measured on a trivial query, alternating: 0.61-0.67 ms against 0.45-0.54 ms), so the
    local server is configured not to send the hint (kgservice/localneo4j/server.py,
    compose.yaml) and one timer per unit does the job.
    """

    def __init__(
        self, driver: AsyncDriver, database: str, timeout_s: float, deadline_s: float | None = None
    ) -> None:
        self.driver = driver
        self.database = database
        self.timeout_s = timeout_s
        self.deadline_s = deadline_s if deadline_s is not None else timeout_s + RETRY_S + GRACE_S

    async def write(self, work: Work[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``work`` in one write transaction (retried by the driver on transient errors)."""
        return await self._run(neo4j.WRITE_ACCESS, work, *args, **kwargs)

    async def read(self, work: Work[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``work`` in one read transaction; the server rejects writes inside it."""
        return await self._run(neo4j.READ_ACCESS, work, *args, **kwargs)

    async def read_autocommit(self, work: ReadWork[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``work`` with each query in its own auto-commit (implicit) read transaction.

        Saves the BEGIN/COMMIT round trips of a transaction. Only for reads whose queries need no
        common snapshot, such as ledger proofs: entries below the head's size never change.
        """
        return await self._autocommit(neo4j.READ_ACCESS, work, *args, **kwargs)

    async def write_autocommit(
        self, work: AutocommitWork[P, T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``work`` with each query in its own auto-commit (implicit) transaction, not
        retried.

        One round trip per query, the commit included. Only for work whose every unit of work
        is a single statement, such as a decision batch (``Ledger.append_autocommit``)."""
        return await self._autocommit(neo4j.WRITE_ACCESS, work, *args, **kwargs)

    async def _autocommit(
        self, mode: str, work: AutocommitWork[P, T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        async def in_session() -> T:
            async with self.driver.session(database=self.database, default_access_mode=mode) as s:
                return await work(s, *args, **kwargs)

        return await self._guard(in_session())

    async def _run(self, mode: str, work: Work[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        timed = neo4j.unit_of_work(timeout=self.timeout_s)(work)

        async def in_transaction() -> T:
            async with self.driver.session(database=self.database, default_access_mode=mode) as s:
                if mode == neo4j.WRITE_ACCESS:
                    return await s.execute_write(timed, *args, **kwargs)
                return await s.execute_read(timed, *args, **kwargs)

        try:
            return await self._guard(in_transaction())
        except CreatedConcurrently:
            # Another unit of work created the same unique key and committed first. Units of
            # work are safe to run again (the driver retries them) and look their keys up
            # before creating them, so once more finds what the other created and answers as
            # to any repeat: a file sent twice at once gets its original receipt, a rule set
            # uploaded twice its 409. Only a second clash reaches the caller.
            return await self._guard(in_transaction())

    async def _guard(self, call: Awaitable[T]) -> T:
        """Driver failures that mean "no database" become 503s, with the cause chained; so does
        a unit of work past its deadline (cancelled: the driver then drops its connection)."""
        try:
            async with asyncio.timeout(self.deadline_s):
                return await call
        except TimeoutError as e:  # before OSError, of which it is a subclass
            raise GraphUnavailable("the graph database did not answer in time") from e
        except _UNAVAILABLE as e:
            raise GraphUnavailable("the graph database is unavailable; try again shortly") from e
        except ConstraintError as e:
            # Unique keys are looked up before they are created, so a unit of work that breaks
            # one met another creating the same key at the same time, which committed first.
            raise CreatedConcurrently(
                "another request created the same thing at the same time; look it up, or try again"
            ) from e
        except Neo4jError as e:
            if e.code and e.code.startswith("Neo.TransientError"):
                raise GraphUnavailable("the graph database is busy; try again shortly") from e
            raise
        except DriverError as e:
            raise GraphUnavailable("the graph database connection failed") from e

    async def server_info(self) -> dict[str, str]:
        """Name, version and edition of the server; raises GraphUnavailable when it is down."""
        try:
            async with self.driver.session(database="system") as s:
                result = await s.run(
                    "CALL dbms.components() YIELD name, versions, edition "
                    "RETURN name, versions[0] AS version, edition"
                )
                record = await result.single(strict=True)
        except (*_UNAVAILABLE, DriverError) as e:
            raise GraphUnavailable("the graph database is unavailable") from e
        return {"name": record["name"], "version": record["version"], "edition": record["edition"]}

    async def close(self) -> None:
        await self.driver.close()
