"""Ingest benchmark: records per second through the whole path for JSON, FHIR and XLSX.

parse → normalise → RDF → grade and validate (SHACL) → protect → one Neo4j transaction with the
ledger entry. Prints one line per format and batch size, and the share of time spent in checking
(everything before storage, protection included, in the service's checking process) versus
storing. Run with `make bench` (its own Neo4j instance, fresh database) or `python -m
bench.ingest` against a scratch server.

Machines here differ by up to 2x from one run to the next, so each figure is printed beside a
reference measured in the same run against the same server: the same files' rows written by
ingest's own ``UNWIND $records ... CREATE`` statement, one transaction per file, with nothing
else: no parsing, grading, validation or protection (the rows are the ingest's own, already
protected), no contribution, ledger entry or receipt. The ratio is ingest's rate over the raw
write's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from typing import Any

from neo4j import AsyncManagedTransaction

from bench.ledger import wipe
from ingest.synthetic.samples import fhir_bundle, json_document, yuwell_xlsx
from kgservice import heap
from kgservice.auth.models import Principal
from kgservice.auth.roles import Role
from kgservice.graph.database import Bulk, Graph, create_driver
from kgservice.institutions import service as institutions
from kgservice.institutions.schemas import InstitutionIn, Tier
from kgservice.ledger.canonical import utc_now
from kgservice.ledger.service import Ledger
from kgservice.ledger.signing import load_signer
from kgservice.records import repository as records_repo
from kgservice.records import service
from kgservice.records.checking import Checker
from kgservice.records.protection import Protector, load_protector
from kgservice.records.storage import Prepared
from kgservice.settings import get_settings

# Files in the overlapped stream. The first is checked with nothing to store beside it and the
# last stored with nothing to check: the steady state is the rate in between.
STREAM = 8
SYSTEM = Principal(
    id="prn_bench",
    name="bench",
    role=Role.institution_system,
    institution="bench-clinic",
    created="2026-11-29T00:00:00Z",
)


# The Source a file's records are derived from, held by the institution; the records and their
# fields then go in with ingest's own statement (kgservice/records/repository.py CREATE_RECORDS),
# so the reference writes exactly what ingest writes for them, and nothing else.
RAW_SOURCE = """
MATCH (i:Institution {id: $institution})
CREATE (:Source {key: $key, institution: $institution})-[:HELD_BY]->(i)
"""
# Prefixed to every key the raw write stores, so its nodes are new ones beside ingest's (record
# ids are unique) and its patients recur across its own files as ingest's do across theirs.
RAW = "raw:"


def raw_rows(records: list[dict[str, Any]], prefix: str = RAW) -> list[dict[str, Any]]:
    """Ingest's record rows, fields nested, with record ids, field ids and patient pseudonyms
    prefixed; every other value as it is. The rows given are left untouched."""
    return [
        {
            **r,
            "id": prefix + r["id"],
            "patient": None if r["patient"] is None else prefix + r["patient"],
            "fields": [{**f, "id": prefix + f["id"]} for f in r["fields"]],
        }
        for r in records
    ]


async def raw_write(graph: Graph, name: str, records: list[dict[str, Any]]) -> float:
    """Seconds to store one file's Source and rows in one transaction (``RAW_SOURCE``, then
    ingest's ``CREATE_RECORDS``). The rows are
    re-keyed before the clock starts. ``Bulk`` spares the driver rendering them for its debug
    log, as it spares ingest (kgservice/graph/database.py)."""
    rows = Bulk(raw_rows(records))
    key = RAW + name

    async def write(tx: AsyncManagedTransaction) -> None:
        where = {"institution": "bench-clinic", "key": key}
        await (await tx.run(RAW_SOURCE, where)).consume()
        await (await tx.run(records_repo.CREATE_RECORDS, where, records=rows)).consume()

    start = time.perf_counter()
    async with graph.driver.session(database=graph.database) as session:
        await session.execute_write(write)
    return time.perf_counter() - start


def files(batch: int, rounds: int, seed: int) -> dict[str, list[bytes]]:
    rng = random.Random(seed)  # noqa: S311 - synthetic data
    return {
        "json": [json.dumps(json_document(rng, batch)).encode() for _ in range(rounds)],
        "fhir": [json.dumps(fhir_bundle(rng, batch)).encode() for _ in range(rounds)],
        # XLSX: one record per patient with six readings each.
        "xlsx": [yuwell_xlsx(rng, batch, 6) for _ in range(rounds)],
    }


async def overlapped(
    checker: Checker,
    graph: Graph,
    ledger: Ledger,
    protector: Protector,
    fmt: str,
    blobs: list[bytes],
) -> tuple[float, float, list[list[dict[str, Any]]]]:
    """Records per second over the whole stream, and in its steady state: from the end of the
    first file's storing to the end of the last's (the pipeline is full: one file is checked
    while another is stored); and each file's stored rows."""
    counts: list[int] = []
    ends: list[float] = []
    stored: list[list[dict[str, Any]]] = []
    start = time.perf_counter()

    async def store(prepared: Prepared, name: str, size: int) -> None:
        await graph.write(service.submit, ledger, SYSTEM, "bench-clinic", prepared, fmt, name, size)
        ends.append(time.perf_counter())
        counts.append(prepared.count)
        stored.append(prepared.records)

    storing: asyncio.Task[None] | None = None
    for i, data in enumerate(blobs):
        name = f"overlap-{fmt}-{i}"
        prepared = await checker.prepare(data, fmt, name, "bench-clinic", protector, utc_now())
        if storing is not None:
            await storing
        storing = asyncio.create_task(store(prepared, name, len(data)))
    if storing is not None:
        await storing
    whole = sum(counts) / (ends[-1] - start)
    steady = sum(counts[1:]) / (ends[-1] - ends[0])
    return whole, steady, stored


def reference(fmt: str, what: str, rate: float, raw: float) -> str:
    """The line printed under an ingest figure: the raw write of the same rows, and the ratio."""
    return (
        f"{fmt:4} {what}, raw UNWIND write of the same rows: {raw:7.0f} records/s "
        f"(ingest/raw {rate / raw:.2f})"
    )


async def warm_up(
    checker: Checker, graph: Graph, ledger: Ledger, protector: Protector, seconds: float
) -> None:
    """Submit files, not counted, until Neo4j's JIT has settled (about a minute after a
    restart: its CPU per decision fell six-fold over the first 60 s, bench/decisions.py)."""
    end = time.perf_counter() + seconds
    seed = 10_000  # apart from the seeds measured below
    while time.perf_counter() < end:
        for fmt, (data,) in files(200, 1, seed).items():
            prepared = await checker.prepare(
                data, fmt, f"warm-{seed}", "bench-clinic", protector, utc_now()
            )
            await graph.write(
                service.submit,
                ledger,
                SYSTEM,
                "bench-clinic",
                prepared,
                fmt,
                f"warm-{seed}",
                len(data),
            )
        seed += 1


async def main(warmup: float) -> None:
    settings = get_settings()
    graph = Graph(create_driver(settings), settings.neo4j.database, 600.0)
    ledger = Ledger(load_signer(settings))
    protector = load_protector(settings)
    checker = Checker()  # the service's: a worker process checks, this one stores
    try:
        await wipe(graph)
        clinic = InstitutionIn(id="bench-clinic", name="bench", tier=Tier.other)
        await graph.write(institutions.register, ledger, "bench", clinic)
        heap.settle()  # as the service does once started
        await warm_up(checker, graph, ledger, protector, warmup)
        for batch in (100, 1000):
            rounds = 3
            for fmt, blobs in files(batch, rounds, seed=batch).items():
                check_s = store_s = raw_s = 0.0
                records = fields = 0
                for i, data in enumerate(blobs):
                    t0 = time.perf_counter()
                    prepared = await checker.prepare(
                        data, fmt, f"bench-{i}", "bench-clinic", protector, utc_now()
                    )
                    assert not prepared.violations, prepared.violations[:3]
                    t1 = time.perf_counter()
                    await graph.write(
                        service.submit,
                        ledger,
                        SYSTEM,
                        "bench-clinic",
                        prepared,
                        fmt,
                        f"bench-{i}",
                        len(data),
                    )
                    t2 = time.perf_counter()
                    check_s += t1 - t0
                    store_s += t2 - t1
                    records += prepared.count
                    fields += sum(len(r["fields"]) for r in prepared.records)
                    # The reference, file by file beside ingest: the same server state for both.
                    raw_s += await raw_write(graph, f"{fmt}-{batch}-{i}", prepared.records)
                total = check_s + store_s
                print(
                    f"{fmt:4} batches of {batch:>4}: {records / total:7.0f} records/s "
                    f"({fields / total:7.0f} fields/s; check {check_s / total:4.0%}, "
                    f"store {store_s / total:4.0%})"
                )
                print(reference(fmt, f"batches of {batch:>4}", records / total, records / raw_s))
        # As the service runs two submissions at once: one file is checked (in the checking
        # process, as records.checking does) while the previous one is being stored.
        for fmt, blobs in files(1000, STREAM, seed=7).items():
            whole, steady, stored = await overlapped(checker, graph, ledger, protector, fmt, blobs)
            print(
                f"{fmt:4} {STREAM} batches of 1000, check and store overlapped: {whole:7.0f} "
                f"records/s; {steady:7.0f} records/s once the first is stored"
            )
            raw_s = 0.0
            for i, rows in enumerate(stored):
                raw_s += await raw_write(graph, f"{fmt}-stream-{i}", rows)
            raw = sum(len(rows) for rows in stored) / raw_s
            print(reference(fmt, f"{STREAM} batches of 1000", whole, raw))
    finally:
        checker.close()
        await graph.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds, not counted")
    asyncio.run(main(parser.parse_args().warmup))
