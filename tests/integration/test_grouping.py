"""Batched writes against the real Neo4j: shared transactions, per-item failure, ledger order."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from neo4j import AsyncManagedTransaction

from kgservice.errors import Unprocessable
from kgservice.graph.database import Graph
from kgservice.graph.grouping import Batcher
from kgservice.ledger.service import Ledger, Receipt
from tests.integration.conftest import bearer
from tests.integration.ledgerkit import event, verify

pytestmark = pytest.mark.anyio
TransactionWork = Callable[
    [AsyncManagedTransaction, list[int]], Awaitable[list[Receipt | Exception]]
]


async def mark_many(
    tx: AsyncManagedTransaction, ledger: Ledger, items: list[int]
) -> list[Receipt | Exception]:
    """A batch function: probe nodes and one ledger entry per item. Item 3 is refused (nothing
    written for it); item 7 raises after writing, as an unexpected error would."""
    if 7 in items:
        await tx.run("CREATE (:GroupProbe {n: -1})")  # rolled back with the transaction
        raise Unprocessable("unit 7 fails after writing")
    kept = [n for n in items if n != 3]
    await tx.run("UNWIND $ns AS n CREATE (:GroupProbe {n: n})", ns=kept)
    receipts = iter(await ledger.append(tx, [event(n) for n in kept]))
    return [Unprocessable("unit 3 is refused") if n == 3 else next(receipts) for n in items]


def in_transactions(
    graph: Graph, work: TransactionWork, in_flight: int = 1
) -> Batcher[int, Receipt]:
    """Items written by ``work``, many to a write transaction, ``in_flight`` at a time."""
    return Batcher(lambda items: graph.write(work, items), 32, in_flight)


async def probes(graph: Graph) -> list[int]:
    async def read(tx: AsyncManagedTransaction) -> list[int]:
        result = await tx.run("MATCH (p:GroupProbe) RETURN p.n AS n ORDER BY n")
        return [r["n"] async for r in result]

    return await graph.read(read)


async def test_concurrent_items_share_commits_and_a_bad_one_fails_alone(
    graph: Graph, ledger: Ledger
) -> None:
    async def work(tx: AsyncManagedTransaction, items: list[int]) -> list[Receipt | Exception]:
        return await mark_many(tx, ledger, items)

    batcher: Batcher[int, Receipt] = in_transactions(graph, work)
    # Items submitted together commit together, in order.
    first = await asyncio.gather(*(batcher.submit(n) for n in (0, 1, 2)))
    assert batcher.batches == 1
    assert [r.seq for r in first] == [0, 1, 2]
    # A refused item gets its error; the rest of its batch commits.
    outcomes: list[Receipt | BaseException] = list(first)
    outcomes += await asyncio.gather(
        *(batcher.submit(n) for n in range(3, 7)), return_exceptions=True
    )
    assert batcher.batches == 2
    # A batch that raises is rolled back and its items run one by one.
    outcomes += await asyncio.gather(
        *(batcher.submit(n) for n in range(7, 12)), return_exceptions=True
    )
    assert batcher.batches == 2
    failed = [n for n, o in enumerate(outcomes) if isinstance(o, BaseException)]
    assert failed == [3, 7]
    assert str(outcomes[3]) == "unit 3 is refused"
    assert str(outcomes[7]) == "unit 7 fails after writing"
    # Nothing of a refused item or a failed batch was written, everything else was, each once.
    assert await probes(graph) == [n for n in range(12) if n not in (3, 7)]
    receipts = [o for o in outcomes if isinstance(o, Receipt)]
    assert sorted(r.seq for r in receipts) == list(range(10))
    report = await verify(graph, ledger.signer)
    assert report.ok
    assert report.size == 10

    # Each caller's receipt names the entry that was stored for it.
    async def leaves(tx: AsyncManagedTransaction) -> dict[int, str]:
        result = await tx.run("MATCH (e:LedgerEntry) RETURN e.seq AS seq, e.leaf_hash AS leaf")
        return {r["seq"]: r["leaf"] async for r in result}

    stored = await graph.read(leaves)
    assert {r.seq: r.leaf_hash.hex() for r in receipts} == stored


async def entered(event: asyncio.Event) -> None:
    """Wait until a batch function has begun (it sets ``event``), then re-arm it."""
    await asyncio.wait_for(event.wait(), timeout=10)
    event.clear()


async def test_a_second_runner_starts_while_the_first_holds_the_ledger(
    graph: Graph, ledger: Ledger
) -> None:
    """With two in flight, an item queued while a batch holds the ledger head's lock gets a
    transaction of its own at once; its append waits for that commit and builds on it."""
    second_started = asyncio.Event()
    locked = asyncio.Event()
    started: list[list[int]] = []

    async def work(tx: AsyncManagedTransaction, items: list[int]) -> list[Receipt | Exception]:
        started.append(items)
        if items == [0]:
            receipts = await ledger.append(tx, [event(0)])  # the head's lock is held from here
            locked.set()
            # With one runner, item 1 would wait for this commit: this would time out.
            await asyncio.wait_for(second_started.wait(), timeout=10)
            return list(receipts)
        second_started.set()
        return list(await ledger.append(tx, [event(n) for n in items]))

    batcher: Batcher[int, Receipt] = in_transactions(graph, work, in_flight=2)
    first = asyncio.create_task(batcher.submit(0))
    await entered(locked)
    second = await batcher.submit(1)
    assert (await first).seq == 0
    assert second.seq == 1
    assert started == [[0], [1]]
    report = await verify(graph, ledger.signer)
    assert report.ok
    assert report.size == 2


async def test_runners_never_exceed_in_flight(graph: Graph, ledger: Ledger) -> None:
    """Items queued while every runner is busy wait and share the next batch; none is lost."""
    release = asyncio.Event()
    began = asyncio.Event()
    running = 0
    most = 0
    sizes: list[int] = []

    async def work(tx: AsyncManagedTransaction, items: list[int]) -> list[Receipt | Exception]:
        nonlocal running, most
        running += 1
        most = max(most, running)
        sizes.append(len(items))
        began.set()
        try:
            await asyncio.wait_for(release.wait(), timeout=10)
        finally:
            running -= 1
        return list(await ledger.append(tx, [event(n) for n in items]))

    batcher: Batcher[int, Receipt] = in_transactions(graph, work, in_flight=2)
    answers = [asyncio.create_task(batcher.submit(0))]
    await entered(began)
    answers.append(asyncio.create_task(batcher.submit(1)))
    await entered(began)  # both runners are inside their transactions
    answers += [asyncio.create_task(batcher.submit(n)) for n in range(2, 7)]
    await asyncio.sleep(0.2)
    assert most == 2
    assert sizes == [1, 1]
    release.set()
    receipts = await asyncio.gather(*answers)
    assert sorted(r.seq for r in receipts) == list(range(7))
    assert sorted(sizes) == [1, 1, 5]
    assert most == 2
    assert (await verify(graph, ledger.signer)).ok


async def test_decisions_under_concurrency_get_distinct_ledgered_receipts(
    client: httpx.AsyncClient, keys: dict[str, str], graph: Graph, ledger: Ledger
) -> None:
    body = {
        "kind": "access",
        "purpose": "treatment",
        "legal_basis": "contract",
        "holder": "hosp-a",
        "categories": ["health_status"],
        "max_level": 3,
    }
    bad = dict(body, holder="nowhere")
    key = bearer(keys["hosp-a endocrinologist"])
    replies = await asyncio.gather(
        *(
            client.post("/v1/decisions", json=bad if i == 5 else body, headers=key)
            for i in range(16)
        )
    )
    assert [r.status_code for r in replies] == [422 if i == 5 else 200 for i in range(16)]
    assert "nowhere" in replies[5].json()["detail"]
    seqs = [r.json()["ledger"]["seq"] for i, r in enumerate(replies) if i != 5]
    assert len(set(seqs)) == 15
    ids = {r.json()["id"] for i, r in enumerate(replies) if i != 5}

    async def stored(tx: AsyncManagedTransaction) -> set[str]:
        return {r["id"] async for r in await tx.run("MATCH (d:Decision) RETURN d.id AS id")}

    assert await graph.read(stored) == ids
    assert (await verify(graph, ledger.signer)).ok


EMERGENCY = {"justification": "患者昏迷送急诊，需调阅其糖尿病随访记录以确定用药"}
ACCESS = {
    "kind": "access",
    "purpose": "treatment",
    "legal_basis": "contract",
    "holder": "hosp-a",
    "categories": ["health_status"],
    "max_level": 3,
}
RX = {
    "kind": "prescription",
    "holder": "hosp-a",
    "prescription": {
        "drug": "二甲双胍",
        "daily_dose_mg": "3000",
        "diagnosis": "E11.9",
        "egfr": "24",
    },
}
VARIED: list[dict[str, Any]] = [
    ACCESS,  # permit
    dict(ACCESS, legal_basis="consent", patients=["ps_" + "0" * 40]),  # deny: no consent
    dict(ACCESS, legal_basis="consent", patients=["ps_" + "0" * 40], emergency=EMERGENCY),
    dict(ACCESS, legal_basis="emergency"),  # review
    RX,  # deny: two prescription rules
    dict(ACCESS, holder="nowhere"),  # 422
    dict(ACCESS, kind="export", recipient="uni-lab", max_level=5),  # deny: core-private egress
    dict(ACCESS, holder="clinic-b"),  # another holder in the same batch
]


def outcome(reply: httpx.Response) -> tuple[Any, ...]:
    """What a decision says, without what differs per decision (ids, times, receipts)."""
    if reply.status_code != 200:
        return reply.status_code, reply.json()["detail"]
    d = reply.json()
    return (
        200,
        d["verdict"],
        d["reasons"],
        d["obligations"],
        d["override"],
        d["review"] is not None,
    )


async def test_batched_decisions_answer_as_they_do_alone(
    app: FastAPI, client: httpx.AsyncClient, keys: dict[str, str], graph: Graph, ledger: Ledger
) -> None:
    key = bearer(keys["hosp-a endocrinologist"])
    alone = [outcome(await client.post("/v1/decisions", json=b, headers=key)) for b in VARIED]
    assert app.state.runtime.decisions.batches == 0
    together = await asyncio.gather(
        *(client.post("/v1/decisions", json=b, headers=key) for b in VARIED * 3)
    )
    assert app.state.runtime.decisions.batches >= 1
    assert [outcome(r) for r in together] == alone * 3
    assert {o[1] for o in alone if o[0] == 200} == {"permit", "deny", "review"}

    # Every review item the batch opened is stored, about its decision; the ledger holds each
    # decision's entries and verifies.
    async def opened(tx: AsyncManagedTransaction) -> dict[str, str]:
        result = await tx.run("MATCH (r:Review)-[:ABOUT]->(d:Decision) RETURN r.id AS r, d.id AS d")
        return {row["r"]: row["d"] async for row in result}

    answers = [r.json() for r in together if r.status_code == 200]
    reviews = {a["review"]: a["id"] for a in answers if a["review"]}
    assert reviews.items() <= (await graph.read(opened)).items()

    # Each decision is linked to its own holder, whatever order the batch wrote them in.
    async def holders(tx: AsyncManagedTransaction) -> dict[str, tuple[str, str]]:
        result = await tx.run(
            "MATCH (d:Decision)-[:CONCERNS]->(i:Institution) RETURN d.id AS d, d.holder AS h, "
            "i.id AS i"
        )
        return {row["d"]: (row["h"], row["i"]) async for row in result}

    linked = await graph.read(holders)
    asked = [b["holder"] for b in VARIED * 3 if b["holder"] != "nowhere"]
    assert [linked[a["id"]] for a in answers] == [(h, h) for h in asked]
    report = await verify(graph, ledger.signer)
    assert report.ok
    for a in answers:
        made = await client.get(
            f"/v1/ledger/entries/{a['ledger']['seq']}", headers=bearer(keys["external auditor"])
        )
        assert made.json()["entry"]["payload"]["id"] == a["id"]


async def test_concurrent_requests_are_authenticated_together_each_by_its_own_key(
    app: FastAPI, client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    names = ["alliance analyst", "external auditor", "demo admin"]
    key_id = keys["alliance analyst"].split("_")[1]
    presented = [keys[n] for n in names] + [f"hs_{key_id}_{'x' * 43}", "not-a-key"]
    replies = await asyncio.gather(
        *(client.get("/v1/whoami", headers=bearer(k)) for k in presented * 4)
    )
    assert app.state.runtime.principals.batches >= 1
    # Each request is answered as its own key's principal; a wrong secret for a real key id
    # and a malformed key fail alone.
    got = [r.json()["name"] if r.status_code == 200 else r.status_code for r in replies]
    assert got == [*names, 401, 401] * 4


async def test_a_decision_after_another_process_appended_is_written_once_in_a_transaction(
    client: httpx.AsyncClient, keys: dict[str, str], graph: Graph, ledger: Ledger
) -> None:
    """The service writes a decision in one auto-commit statement built on the ledger head it
    expects; when another process has appended since, that statement writes nothing and the
    decision is written in a transaction instead, once."""
    key = bearer(keys["hosp-a endocrinologist"])
    first = await client.post("/v1/decisions", json=ACCESS, headers=key)
    other = Ledger(ledger.signer)  # another process of the service
    (moved,) = await graph.write(other.append, [event(1)])
    second = await client.post("/v1/decisions", json=ACCESS, headers=key)
    third = await client.post("/v1/decisions", json=ACCESS, headers=key)
    assert [r.status_code for r in (first, second, third)] == [200, 200, 200]
    seqs = [r.json()["ledger"]["seq"] for r in (first, second, third)]
    assert seqs == [moved.seq - 1, moved.seq + 1, moved.seq + 2]

    async def stored(tx: AsyncManagedTransaction) -> list[str]:
        result = await tx.run("MATCH (d:Decision)-[:CONCERNS]->(:Institution) RETURN d.id AS id")
        return [row["id"] async for row in result]

    assert sorted(await graph.read(stored)) == sorted(
        r.json()["id"] for r in (first, second, third)
    )
    report = await verify(graph, ledger.signer)
    assert report.ok, report.problems
