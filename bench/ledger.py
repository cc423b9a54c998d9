"""Ledger benchmark: appends per second, full verification time, inclusion-proof latency.

Run with `make bench` (its own Neo4j instance, fresh database) or
`python -m bench.ledger --entries 100000` against a scratch server named by NEO4J_URI.
Prints one line per figure.

Machines here differ by up to 2x from one run to the next, so verification is printed beside a
reference measured in the same run: a plain read of the same entries (the verifier's query, in
its batches, through the same sync driver and session) with no hashing or checking. The two are
timed alternately, ``--repeats`` times each, and the medians are printed with their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from kgservice.graph.database import Graph, create_driver, create_sync_driver
from kgservice.ledger import repository as repo
from kgservice.ledger.canonical import Event
from kgservice.ledger.service import Ledger
from kgservice.ledger.signing import Signer, load_signer
from kgservice.ledger.verify import BATCH, FetchBatch, verify_ledger
from kgservice.schema_registry import ensure_schema
from kgservice.settings import get_settings

MARKER = "HealthShieldTestDatabase"


def event(i: int) -> Event:
    payload = {"decision": f"dec_{i:08d}", "verdict": "permit", "rule_set": "sha256:" + "ab" * 32}
    return Event("decision.recorded", "prn_bench", payload, "hosp-a")


async def wipe(graph: Graph) -> None:
    async with graph.driver.session(database=graph.database) as s:
        marked = await (await s.run(f"MATCH (m:{MARKER}) RETURN count(m) AS c")).single()
        nodes = await (await s.run("MATCH (n) RETURN count(n) AS c")).single()
        if nodes and nodes["c"] and not (marked and marked["c"]):
            raise SystemExit("refusing to wipe a database the tests/benchmarks do not own")
        await s.run(f"MERGE (:{MARKER})")
        await (
            await s.run(
                f"MATCH (n) WHERE NOT n:{MARKER} "
                "CALL { WITH n DETACH DELETE n } IN TRANSACTIONS OF 20000 ROWS"
            )
        ).consume()
    await ensure_schema(graph)


async def single_appends(graph: Graph, ledger: Ledger, n: int, writers: int) -> float:
    async def writer(w: int) -> None:
        for i in range(n // writers):
            await graph.write(ledger.append, [event(w * n + i)])

    start = time.perf_counter()
    await asyncio.gather(*(writer(w) for w in range(writers)))
    return n / (time.perf_counter() - start)


async def batched_appends(graph: Graph, ledger: Ledger, total: int, batch: int) -> float:
    start = time.perf_counter()
    for offset in range(0, total, batch):
        await graph.write(ledger.append, [event(offset + i) for i in range(batch)])
    return total / (time.perf_counter() - start)


def read_all(fetch: FetchBatch) -> int:
    """Fetch every entry in the verifier's batches (``verify._scan``: from the next sequence
    number, ``BATCH`` at a time, until a batch comes back empty) and keep nothing; the count."""
    count = 0
    while rows := fetch(count, BATCH):
        count += len(rows)
    return count


def _timed(use: Callable[[dict[str, Any], FetchBatch], int]) -> tuple[float, int]:
    """Seconds to connect, read the head and hand the batch reader to ``use``, as
    `shield ledger verify` does (sync driver, one session, fetch size ``BATCH``)."""
    settings = get_settings()
    start = time.perf_counter()
    with (
        create_sync_driver(settings) as driver,
        driver.session(database=settings.neo4j.database, fetch_size=BATCH) as session,
    ):
        head = session.execute_read(repo.read_head_sync)

        def fetch(first: int, limit: int) -> list[dict[str, Any]]:
            return session.execute_read(repo.entries_from_sync, first, limit)

        size = use(head, fetch)
    return time.perf_counter() - start, size


def verify_all(signer: Signer) -> tuple[float, int]:
    """The same reading and checking as `shield ledger verify`."""

    def verify(head: dict[str, Any], fetch: FetchBatch) -> int:
        report = verify_ledger(fetch, head, signer.public, signer.origin)
        if not report.ok:
            raise SystemExit(f"ledger did not verify: {report.problems}")
        return report.size

    return _timed(verify)


def read_entries() -> tuple[float, int]:
    """The reference for ``verify_all``: the same reading, nothing checked."""
    return _timed(lambda _head, fetch: read_all(fetch))


def verify_against_read(signer: Signer, repeats: int) -> tuple[float, float, int]:
    """Median seconds of verification and of the plain read, timed alternately so that both
    meet the same load on a shared machine; and the ledger's size."""
    verified: list[float] = []
    read: list[float] = []
    size = 0
    for _ in range(repeats):
        seconds, size = verify_all(signer)
        verified.append(seconds)
        seconds, count = read_entries()
        if count != size:
            raise SystemExit(f"read {count} entries, verified {size}")
        read.append(seconds)
    return statistics.median(verified), statistics.median(read), size


async def proof_latency(graph: Graph, ledger: Ledger, samples: int) -> list[float]:
    size = int((await graph.read(repo.read_head))["size"])
    times = []
    for seq in random.sample(range(size), min(samples, size)):
        start = time.perf_counter()
        await graph.read_autocommit(ledger.prove_entry, seq)
        times.append((time.perf_counter() - start) * 1000)
    return times


async def main(entries: int, repeats: int) -> None:
    settings = get_settings()
    graph = Graph(create_driver(settings), settings.neo4j.database, 600.0)
    ledger = Ledger(load_signer(settings))
    try:
        await wipe(graph)
        for writers, n in ((1, 500), (8, 800)):
            rate = await single_appends(graph, ledger, n, writers)
            print(f"single-event transactions, {writers} writer(s): {rate:8.0f} appends/s")
        for batch in (100, 1000):
            rate = await batched_appends(graph, ledger, 20 * batch, batch)
            print(f"batches of {batch:>4} events:              {rate:8.0f} appends/s")
        have = int((await graph.read(repo.read_head))["size"])
        if entries > have:
            await batched_appends(graph, ledger, entries - have, 1000)
        seconds, read, size = verify_against_read(ledger.signer, repeats)
        print(f"verify {size} entries (shield ledger verify): {seconds:8.2f} s")
        print(
            f"read {size} entries, nothing checked (reference): {read:8.2f} s "
            f"(verify/read {seconds / read:.2f})"
        )
        lat = await proof_latency(graph, ledger, 300)
        p95 = statistics.quantiles(lat, n=20)[18]
        print(
            f"inclusion proof at size {size}: median {statistics.median(lat):.2f} ms, "
            f"p95 {p95:.2f} ms"
        )
    finally:
        await graph.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=100_000, help="ledger size for verify")
    parser.add_argument(
        "--repeats", type=int, default=3, help="timings of verify and of the plain read, each"
    )
    args = parser.parse_args()
    asyncio.run(main(args.entries, args.repeats))
