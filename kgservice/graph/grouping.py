"""Group commit: concurrent units of work share one write transaction.

Every unit of work that appends to the ledger holds the ledger head's lock until it commits, and a
commit waits for a forced log flush; so one transaction per request tops out near 200 appends/s
however many requests wait (``bench/ledger.py``). Hot write paths (decisions) queue their unit of
work here instead: one task runs everything queued so far in one transaction, in arrival order,
and answers each caller only after that transaction has committed. A lone request runs at once,
so this adds no latency when the service is quiet; batches form only while a commit is under way.

Each unit stays all-or-nothing: if any unit in a batch raises, the shared transaction rolls back
and every unit of the batch runs again in its own transaction, so a bad request fails alone with
its own error and nothing of it is written.

Given the ledger, a batch's ledger entries are written by one query just before its commit
(``Ledger.defer``): receipts are final when ``append`` returns, but a unit must not read back
the ledger entries it appended within the batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar, cast

from neo4j import AsyncManagedTransaction

from kgservice.graph.database import Graph, Work
from kgservice.ledger.service import Ledger

T = TypeVar("T")
P = ParamSpec("P")
Unit = Callable[[AsyncManagedTransaction], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class _Queued:
    work: Unit
    done: asyncio.Future[Any]


async def _in_order(
    tx: AsyncManagedTransaction, units: list[Unit], ledger: Ledger | None
) -> list[Any]:
    if ledger is None:
        return [await unit(tx) for unit in units]
    # The batch's ledger entries go to Neo4j in one query, just before the commit.
    ledger.defer(tx)
    results = [await unit(tx) for unit in units]
    await ledger.flush(tx)
    return results


class GroupCommit:
    """Queue of write units for one graph; at most ``max_units`` share a transaction."""

    def __init__(self, graph: Graph, ledger: Ledger | None = None, max_units: int = 32) -> None:
        self.graph = graph
        self.ledger = ledger
        self.max_units = max_units
        self._queue: list[_Queued] = []
        self._runner: asyncio.Task[None] | None = None
        self.batches = 0  # transactions committed with more than one unit (for tests and bench)

    async def write(self, work: Work[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Like ``Graph.write``, possibly in a transaction shared with concurrent callers."""

        async def unit(tx: AsyncManagedTransaction) -> T:
            return await work(tx, *args, **kwargs)

        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        # If the caller goes away, nobody awaits ``done``: mark its error retrieved so asyncio
        # does not log it as lost (the unit's own transaction handled it).
        done.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._queue.append(_Queued(unit, done))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._drain())
        # Shielded: a caller that goes away must not cancel a transaction other callers share.
        return cast(T, await asyncio.shield(done))

    async def _drain(self) -> None:
        while self._queue:
            batch = self._queue[: self.max_units]
            del self._queue[: self.max_units]
            await self._commit(batch)

    async def _commit(self, batch: list[_Queued]) -> None:
        if len(batch) > 1:
            try:
                results = await self.graph.write(_in_order, [q.work for q in batch], self.ledger)
            except Exception:  # noqa: S110 - each unit is run alone next and gets its own error
                pass
            else:
                self.batches += 1
                for queued, result in zip(batch, results, strict=True):
                    _settle(queued.done, result=result)
                return
        for queued in batch:
            try:
                result = await self.graph.write(queued.work)
            except Exception as e:
                _settle(queued.done, error=e)
            else:
                _settle(queued.done, result=result)


def _settle(done: asyncio.Future[Any], result: Any = None, error: Exception | None = None) -> None:
    if done.done():
        return
    if error is not None:
        done.set_exception(error)
    else:
        done.set_result(result)
