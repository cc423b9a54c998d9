"""Batched units of work: concurrent requests of one kind share one unit of work.

Every unit of work that appends to the ledger holds the ledger head's lock until it commits, so
one unit per request tops out near 200 appends/s however many requests wait
(docs/performance.md). A hot path (the decision engine, kgservice/decisions/engine.py)
submits its items here instead: a runner task hands everything queued so far to the path's
batch function as one unit of work, in arrival order, and answers each caller only after that
unit has finished. A lone request runs at once, so this adds no latency when the service is
quiet; batches form only while every runner is busy.

A path may have more than one runner (``in_flight``). With two, a request that arrives while a
batch is being written starts its own at once instead of waiting for it: its lookup and checks
overlap the other's write, and only its own append waits (on the ledger head's lock, or in the
process: ``Ledger.append_autocommit`` sends one at a time). Batches then start in arrival order
but may finish in either order; each request's result is that of its own batch either way.

The batch function asks Neo4j once per batch rather than once per item (one lookup, one write,
one ledger append), which is what makes a batch cheaper than its items one by one. It returns
one outcome per item: a result, or the error refusing that item, in which case it must have
written nothing for it. If it raises instead, every item runs again on its own, so an
unexpected failure stays with its own item: a batch function may raise only when it has written
nothing (a transaction that rolled back, or no write sent yet); once a write may have committed,
it answers a failure as every item's outcome instead.

Reads can be batched the same way (``Batcher.reading``, one auto-commit query for the lot): the
service authenticates concurrent requests with one lookup of all their keys. A request still
sees the state after it arrived, since a batch starts only after everything in it was queued.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from kgservice.graph.database import Graph, Runner

I = TypeVar("I")  # noqa: E741 - the item type
O = TypeVar("O")  # noqa: E741 - the result type
ReadBatchWork = Callable[[Runner, list[I]], Awaitable[Sequence[O | Exception]]]
Run = Callable[[list[I]], Awaitable[Sequence[O | Exception]]]  # one unit of work for a batch


@dataclass(frozen=True, slots=True)
class _Queued(Generic[I, O]):
    item: I
    done: asyncio.Future[O]


class Batcher(Generic[I, O]):
    """Items waiting for the next batch; at most ``max_items`` share a unit of work (``run``:
    an outcome per item, in order) and at most ``in_flight`` units run at once."""

    def __init__(self, run: Run[I, O], max_items: int, in_flight: int = 1) -> None:
        if in_flight < 1:
            raise ValueError("a batcher needs at least one runner")
        self.run = run
        self.max_items = max_items
        self.in_flight = in_flight
        self._queue: list[_Queued[I, O]] = []
        self._runners: set[asyncio.Task[None]] = set()
        self.batches = 0  # units of work run for more than one item (for tests and bench)

    @classmethod
    def reading(cls, graph: Graph, work: ReadBatchWork[I, O], max_items: int = 64) -> Batcher[I, O]:
        """Items looked up by ``work``, many to an auto-commit query."""
        return cls(lambda items: graph.read_autocommit(work, items), max_items)

    async def submit(self, item: I) -> O:
        """The item's result, once the unit of work that handled it has finished."""
        done: asyncio.Future[O] = asyncio.get_running_loop().create_future()
        # If the caller goes away, nobody awaits ``done``: mark its error retrieved so asyncio
        # does not log it as lost.
        done.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._queue.append(_Queued(item, done))
        # A runner not done is either about to take the queue or awaiting a commit, after which
        # it looks at the queue again: nothing queued is left without one.
        self._runners = {r for r in self._runners if not r.done()}
        if len(self._runners) < self.in_flight:
            self._runners.add(asyncio.create_task(self._drain()))
        # Shielded: a caller that goes away must not cancel a unit other callers share.
        return await asyncio.shield(done)

    async def _drain(self) -> None:
        while self._queue:
            batch = self._queue[: self.max_items]
            del self._queue[: self.max_items]
            await self._commit(batch)

    async def _commit(self, batch: list[_Queued[I, O]]) -> None:
        try:
            outcomes = await self.run([q.item for q in batch])
        except Exception as e:
            if len(batch) == 1:
                _settle(batch[0].done, e)
                return
            for queued in batch:  # each alone, so the failure stays with its own item
                await self._commit([queued])
            return
        if len(outcomes) != len(batch):  # a bug in the batch function: nobody gets a wrong answer
            wrong = RuntimeError(f"batch function gave {len(outcomes)} outcomes for {len(batch)}")
            outcomes = [wrong] * len(batch)
        elif len(batch) > 1:
            self.batches += 1
        for queued, outcome in zip(batch, outcomes, strict=True):
            _settle(queued.done, outcome)


def _settle(done: asyncio.Future[O], outcome: O | Exception) -> None:
    if done.done():
        return
    if isinstance(outcome, Exception):
        done.set_exception(outcome)
    else:
        done.set_result(outcome)
