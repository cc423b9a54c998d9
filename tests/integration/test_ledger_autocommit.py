"""Appends that are auto-commit transactions (``Ledger.append_autocommit``), against the real
Neo4j: one statement, a guess that may be wrong, two in flight at once."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest
from neo4j import AsyncManagedTransaction, AsyncResult, AsyncSession
from neo4j.exceptions import TransientError

from kgservice.graph.database import Graph, Runner
from kgservice.ledger import repository as repo
from kgservice.ledger.repository import Write
from kgservice.ledger.service import Ledger, Receipt
from tests.integration.ledgerkit import event, fill, run, verify

pytestmark = pytest.mark.anyio
# Rows (times 100) the first of two appends in flight counts while it holds the head's lock:
# ~1.5 s here.
SPIN = 200_000


class Counting:
    """A session or transaction that counts the statements sent through it (one round trip
    each)."""

    def __init__(self, runner: AsyncSession | AsyncManagedTransaction) -> None:
        self.runner = runner
        self.statements = 0

    async def run(
        self, query: str, parameters: dict[str, Any] | None = None, **kwargs: Any
    ) -> AsyncResult:
        self.statements += 1
        return await self.runner.run(query, parameters, **kwargs)


def probes(*ns: int, spin: int = 0) -> list[Write]:
    """A caller's write made with the append, as decisions make theirs; ``spin``: rows to count
    first, to hold the head's lock for a while (counting on the head, which the statement has
    written, so the count cannot be planned ahead of the lock)."""
    return [
        (
            "MATCH (h:LedgerHead) UNWIND range(1, $spin) AS i UNWIND range(1, 100) AS j "
            "WITH sum(i * j + h.size) AS spun UNWIND $ns AS n CREATE (:AutocommitProbe {n: n})",
            {"ns": list(ns), "spin": spin},
        )
    ]


async def autocommit(
    graph: Graph,
    ledger: Ledger,
    ns: list[int],
    spin: int = 0,
    sent: list[Counting] | None = None,
    guard: Write | None = None,
) -> tuple[list[Receipt] | None, int]:
    """``append_autocommit`` of one event per number, writing a probe per number; and its statements
    (also counted in ``sent`` while it runs)."""

    async def work(session: AsyncSession) -> tuple[list[Receipt] | None, int]:
        counting = Counting(session)
        if sent is not None:
            sent.append(counting)
        made = await ledger.append_autocommit(
            cast(AsyncSession, counting), [event(n) for n in ns], probes(*ns, spin=spin), guard
        )
        return made, counting.statements

    return await graph.write_autocommit(work)


async def spinning(graph: Graph) -> None:
    """Once a statement with a spin is running: its plan is cached, so it holds the head's lock."""
    query = (
        "SHOW TRANSACTIONS YIELD currentQuery, status "
        "WHERE currentQuery CONTAINS 'range(1, $' + 'spin)' "
        "AND NOT currentQuery STARTS WITH 'SHOW' AND status = 'Running' RETURN count(*) AS n"
    )
    for _ in range(500):
        if await graph.read_autocommit(lambda s: _single(s, query)):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the spinning append never ran")


async def _single(session: Runner, query: str) -> int:
    return int((await (await session.run(query)).single(strict=True))["n"])


async def in_transaction(graph: Graph, ledger: Ledger, ns: list[int]) -> tuple[list[Receipt], int]:
    async def work(tx: AsyncManagedTransaction) -> tuple[list[Receipt], int]:
        counting = Counting(tx)
        made = await ledger.append(
            cast(AsyncManagedTransaction, counting), [event(n) for n in ns], probes(*ns)
        )
        return made, counting.statements

    return await graph.write(work)


async def stored(graph: Graph) -> tuple[int, list[int]]:
    """The head's size and the probes written, in order."""

    async def read(tx: AsyncManagedTransaction) -> list[int]:
        result = await tx.run("MATCH (p:AutocommitProbe) RETURN p.n AS n ORDER BY n")
        return [r["n"] async for r in result]

    return int((await graph.read(repo.read_head))["size"]), await graph.read(read)


async def test_an_autocommit_append_commits_entries_and_writes_in_one_statement(
    graph: Graph, ledger: Ledger
) -> None:
    await fill(graph, ledger, 2)
    made, statements = await autocommit(graph, ledger, [10, 11])
    assert statements == 1
    assert made is not None
    assert [r.seq for r in made] == [2, 3]
    assert await stored(graph) == (4, [10, 11])
    report = await verify(graph, ledger.signer)
    assert report.ok, report.problems


async def test_without_a_guess_nothing_is_sent(graph: Graph, ledger: Ledger) -> None:
    """A process that has not appended yet does not know the head: it appends in a
    transaction, which reads the head under its lock."""
    await fill(graph, ledger, 1)
    fresh = Ledger(ledger.signer)
    assert await autocommit(graph, fresh, [5]) == (None, 0)
    assert await stored(graph) == (1, [])


async def test_on_a_moved_head_nothing_is_written_and_the_transaction_builds_on_it(
    graph: Graph, ledger: Ledger
) -> None:
    await fill(graph, ledger, 2)
    await fill(graph, Ledger(ledger.signer), 1)  # another process of the service appended
    assert await autocommit(graph, ledger, [20]) == (None, 1)
    assert await stored(graph) == (3, [])  # neither the entry nor the caller's write
    # The head as read under the lock is the next guess: right, so one round trip.
    made, statements = await in_transaction(graph, ledger, [20])
    assert [r.seq for r in made] == [3]
    assert statements == 1
    assert await stored(graph) == (4, [20])
    again, statements = await autocommit(graph, ledger, [21])
    assert again is not None
    assert [r.seq for r in again] == [4]
    assert statements == 1
    assert (await verify(graph, ledger.signer)).ok


async def test_a_wrong_guess_in_a_transaction_writes_once_on_the_head_read_under_the_lock(
    graph: Graph, ledger: Ledger
) -> None:
    await fill(graph, ledger, 2)
    await fill(graph, Ledger(ledger.signer), 1)
    made, statements = await in_transaction(graph, ledger, [30, 31])
    assert [r.seq for r in made] == [3, 4]
    assert statements == 2
    assert await stored(graph) == (5, [30, 31])  # the caller's write made once
    assert (await verify(graph, ledger.signer)).ok


async def test_a_second_append_is_sent_once_the_first_has_committed(
    graph: Graph, ledger: Ledger
) -> None:
    """Sent at once, built on the state the first would leave, the second could reach the head's
    lock first and miss; it waits in this process instead, and builds on the committed state."""
    await fill(graph, ledger, 1)
    # The statement is planned once here, not while the first holds the lock.
    await autocommit(graph, ledger, [40])
    first = asyncio.create_task(autocommit(graph, ledger, [41, 42], spin=SPIN))
    await spinning(graph)
    sent: list[Counting] = []
    second = asyncio.create_task(autocommit(graph, ledger, [43], sent=sent))
    await asyncio.sleep(0.2)
    assert not first.done()
    assert [c.statements for c in sent] == [0]  # waiting here, not on the server
    made, _ = await first
    after, statements = await second
    assert made is not None
    assert after is not None
    assert [r.seq for r in made + after] == [2, 3, 4]
    assert statements == 1
    assert await stored(graph) == (5, [40, 41, 42, 43])
    rows = await graph.read(repo.entries_from, 0, 10)
    times = [row["time"] for row in sorted(rows, key=lambda row: row["seq"])]
    assert times == sorted(times)
    assert (await verify(graph, ledger.signer)).ok


async def test_after_a_miss_the_next_append_builds_on_the_head_it_read(
    graph: Graph, ledger: Ledger
) -> None:
    await fill(graph, ledger, 1)
    await fill(graph, Ledger(ledger.signer), 1)
    (missed, tried), (made, statements) = await asyncio.gather(
        autocommit(graph, ledger, [50]), autocommit(graph, ledger, [51])
    )
    assert (missed, tried) == (None, 1)
    assert made is not None
    assert [r.seq for r in made] == [2]
    assert statements == 1
    assert await stored(graph) == (3, [51])
    assert (await verify(graph, ledger.signer)).ok


class Deadlocked(Counting):
    """A session whose server fails the next statement as a deadlock's victim, which rolls it
    back: it is not sent. (A real deadlock is left to the server to break, which fails either of
    the two transactions, so a test of it could not choose the append.)"""

    async def run(
        self, query: str, parameters: dict[str, Any] | None = None, **kwargs: Any
    ) -> AsyncResult:
        self.statements += 1
        raise TransientError("the deadlock's victim")


async def test_an_append_the_server_fails_transiently_writes_nothing_and_forgets_its_guess(
    graph: Graph, ledger: Ledger
) -> None:
    await fill(graph, ledger, 2)

    async def failing(session: AsyncSession) -> list[Receipt] | None:
        deadlocked = Deadlocked(session)
        return await ledger.append_autocommit(
            cast(AsyncSession, deadlocked), [event(70)], probes(70)
        )

    assert await graph.write_autocommit(failing) is None
    assert await autocommit(graph, ledger, [71]) == (None, 0)  # no guess left: nothing sent
    made, statements = await in_transaction(graph, ledger, [70])
    assert [r.seq for r in made] == [2]
    assert statements == 2  # the head read under the lock, then the entry
    assert await stored(graph) == (3, [70])
    assert (await verify(graph, ledger.signer)).ok


def flag_guard(*values: bool) -> Write:
    """A guard returning one row per value: holds when the one :GuardFlag has ``on = true``
    (read under the head's lock, in the statement)."""
    return (
        "UNWIND $values AS v OPTIONAL MATCH (f:GuardFlag) "
        "RETURN v AND coalesce(f.on, false) AS holds",
        {"values": list(values)},
    )


async def test_a_guard_read_under_the_lock_decides_whether_anything_is_written(
    graph: Graph, ledger: Ledger
) -> None:
    await fill(graph, ledger, 2)
    await run(graph, "CREATE (:GuardFlag {on: false})")
    assert await autocommit(graph, ledger, [80], guard=flag_guard(True)) == (None, 1)
    assert await stored(graph) == (2, [])  # neither the entry nor the caller's write
    await run(graph, "MATCH (f:GuardFlag) SET f.on = true")
    made, statements = await autocommit(graph, ledger, [81], guard=flag_guard(True))
    # The failed guard left the guess where it was: the next append is right first time.
    assert statements == 1
    assert made is not None
    assert [r.seq for r in made] == [2]
    assert await stored(graph) == (3, [81])
    assert (await verify(graph, ledger.signer)).ok


async def test_a_guard_must_return_exactly_one_row_that_holds(graph: Graph, ledger: Ledger) -> None:
    await fill(graph, ledger, 1)
    await run(graph, "CREATE (:GuardFlag {on: true})")
    assert await autocommit(graph, ledger, [90], guard=flag_guard(True, True)) == (None, 1)
    assert await autocommit(graph, ledger, [91], guard=flag_guard()) == (None, 1)
    assert await autocommit(graph, ledger, [92], guard=flag_guard(False)) == (None, 1)
    assert await stored(graph) == (1, [])
    made, _ = await autocommit(graph, ledger, [93], guard=flag_guard(True))
    assert made is not None
    assert await stored(graph) == (2, [93])


async def test_a_guard_s_parameters_may_not_clash_with_the_writes(
    graph: Graph, ledger: Ledger
) -> None:
    await fill(graph, ledger, 1)
    clash: Write = ("RETURN size($ns) > 0 AS holds", {"ns": [1]})
    with pytest.raises(ValueError, match="clash"):
        await autocommit(graph, ledger, [95], guard=clash)
    assert await stored(graph) == (1, [])
