"""Ingest benchmark: records per second through the whole path for JSON, FHIR and XLSX.

parse → normalise → RDF → grade and validate (SHACL) → protect → one Neo4j transaction with the
ledger entry. Prints one line per format and batch size, and the share of time spent in checking
(everything before storage, protection included, in the service's checking process) versus
storing. Run with `make bench` (its own Neo4j instance, fresh database) or `python -m
bench.ingest` against a scratch server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time

from bench.ledger import wipe
from ingest.synthetic.samples import fhir_bundle, json_document, yuwell_xlsx
from kgservice import heap
from kgservice.auth.models import Principal
from kgservice.auth.roles import Role
from kgservice.graph.database import Graph, create_driver
from kgservice.institutions import service as institutions
from kgservice.institutions.schemas import InstitutionIn, Tier
from kgservice.ledger.canonical import utc_now
from kgservice.ledger.service import Ledger
from kgservice.ledger.signing import load_signer
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
) -> tuple[float, float]:
    """Records per second over the whole stream, and in its steady state: from the end of the
    first file's storing to the end of the last's (the pipeline is full: one file is checked
    while another is stored)."""
    counts: list[int] = []
    ends: list[float] = []
    start = time.perf_counter()

    async def store(prepared: Prepared, name: str, size: int) -> None:
        await graph.write(service.submit, ledger, SYSTEM, "bench-clinic", prepared, fmt, name, size)
        ends.append(time.perf_counter())
        counts.append(prepared.count)

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
    return whole, steady


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
                check_s = store_s = 0.0
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
                total = check_s + store_s
                print(
                    f"{fmt:4} batches of {batch:>4}: {records / total:7.0f} records/s "
                    f"({fields / total:7.0f} fields/s; check {check_s / total:4.0%}, "
                    f"store {store_s / total:4.0%})"
                )
        # As the service runs two submissions at once: one file is checked (in the checking
        # process, as records.checking does) while the previous one is being stored.
        for fmt, blobs in files(1000, STREAM, seed=7).items():
            whole, steady = await overlapped(checker, graph, ledger, protector, fmt, blobs)
            print(
                f"{fmt:4} {STREAM} batches of 1000, check and store overlapped: {whole:7.0f} "
                f"records/s; {steady:7.0f} records/s once the first is stored"
            )
    finally:
        checker.close()
        await graph.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds, not counted")
    asyncio.run(main(parser.parse_args().warmup))
