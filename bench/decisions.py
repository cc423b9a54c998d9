"""Decision benchmark: red-line checks in-process (fast path, plain pySHACL, remembered findings)
and over HTTP with the ledger, at a fixed offered rate.

Run with `make bench` (its own Neo4j instance, on a fresh database; starts the service on
127.0.0.1:8077) or `python -m bench.decisions --rates 200 --seconds 10` against a scratch server
(which it wipes).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass

import httpx
from neo4j import AsyncManagedTransaction

from bench import cpu
from bench.ledger import wipe
from bench.loadgen import HttpFailure, KeepAlivePool
from ingest.grading import Engine
from kgservice.decisions.corpus import facts_of, generate
from kgservice.decisions.rules import RedLines
from kgservice.decisions.schemas import DecisionIn
from kgservice.demo import seed
from kgservice.graph.database import Graph, create_driver
from kgservice.ledger.service import Ledger
from kgservice.ledger.signing import load_signer
from kgservice.schema_registry import ensure_schema
from kgservice.settings import DecisionEngineSettings, get_settings

PORT = 8077
# Seconds at 100/s before the warm-up proper: a cold Neo4j spends ~15 ms of CPU per decision,
# so 200/s at once would only queue and refuse.
COLD = 20.0
IRI = "https://w3id.org/health-shield/id/decision/bench"


def percentiles(ms: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(ms, n=100)
    return statistics.median(ms), q[98]


def in_process(engine: Engine, n: int, remembered: bool = False) -> list[float]:
    """Milliseconds per check of ``n`` generated requests, each judged by the engine; or, with
    ``remembered``, the same requests again under new IRIs with their findings remembered (as
    the service does once a rule set is vetted: ``RedLines.repeatable``)."""
    redlines = RedLines(engine=engine)
    cases = [
        (DecisionIn.model_validate(item["request"]), facts_of(item["facts"]))
        for item in generate(n, seed=7)
    ]
    if remembered:
        redlines.repeatable = True
        redlines.memo_size = DecisionEngineSettings().remembered_findings
        for k, (request, facts) in enumerate(cases):
            redlines.check(request, facts, f"{IRI}/earlier/{k}")
    out = []
    for k, (request, facts) in enumerate(cases):
        start = time.perf_counter()
        redlines.check(request, facts, f"{IRI}/{k}")
        out.append((time.perf_counter() - start) * 1000)
    return out


async def over_http(
    key: str, rate: float, seconds: float
) -> tuple[list[float], float, Counter[str]]:
    """Offer ``rate`` decisions a second, open loop; latency counts from the scheduled send."""
    body = {
        "kind": "access",
        "purpose": "treatment",
        "legal_basis": "contract",
        "holder": "hosp-a",
        "categories": ["health_status"],
        "max_level": 3,
    }
    latencies: list[float] = []
    failed: Counter[str] = Counter()  # why: the HTTP status, or "connection"
    pool = KeepAlivePool("127.0.0.1", PORT)
    request = pool.post_json("/v1/decisions", body, {"Authorization": f"Bearer {key}"})

    async def one(at: float) -> None:
        await asyncio.sleep(max(0.0, at - time.perf_counter()))
        try:
            status, _ = await pool.send(request)
        except HttpFailure:
            failed["connection"] += 1
            return
        if status != 200:
            failed[str(status)] += 1
            return
        latencies.append((time.perf_counter() - at) * 1000)

    t0 = time.perf_counter() + 0.5
    total = int(rate * seconds)
    try:
        await asyncio.gather(*(one(t0 + i / rate) for i in range(total)))
    finally:
        await pool.close()
    achieved = len(latencies) / (time.perf_counter() - t0)
    return latencies, achieved, failed


# Earlier decisions, as a running alliance has them: the graph a decision is made in, which
# grows by a decision and its ledger entry at every request (and whose statistics the decision
# statements' plans must not depend on: kgservice/graph/plans.py).
HISTORY = """
MATCH (i:Institution {id: 'hosp-a'})
UNWIND range($start, $start + $n - 1) AS k
CREATE (d:Decision {id: 'dec_history_' + k, kind: 'access', holder: 'hosp-a',
                    requester: 'history', user: 'hosp-a', verdict: 'permit', override: false,
                    rules: [], rule_set: 'history', request: '{}', facts: '{}',
                    decided: '2026-01-01T00:00:00Z'})
CREATE (d)-[:CONCERNS]->(i)
"""


async def prepare(history: int) -> str:
    settings = get_settings()
    graph = Graph(create_driver(settings), settings.neo4j.database, 60.0)

    async def earlier(tx: AsyncManagedTransaction, start: int, n: int) -> None:
        await (await tx.run(HISTORY, start=start, n=n)).consume()

    try:
        await wipe(graph)
        await ensure_schema(graph)
        keys = await seed(graph, Ledger(load_signer(settings)), "bench", {})
        for start in range(0, history, 10_000):
            await graph.write(earlier, start, min(10_000, history - start))
    finally:
        await graph.close()
    return keys["hosp-a endocrinologist"]


def wait_ready() -> None:
    for _ in range(100):
        try:
            if httpx.get(f"http://127.0.0.1:{PORT}/v1/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("the service did not start")


def cpu_now(service: int, neo4j: int | None) -> tuple[float, float, float]:
    """CPU seconds so far of the service (with its workers), Neo4j (0.0 if not the local
    server) and this process, the load generator."""
    return cpu.seconds(service), 0.0 if neo4j is None else cpu.seconds(neo4j), time.process_time()


def cpu_per_decision(used: list[float], decisions: int) -> str:
    service, neo4j, load = (1000 * s / max(decisions, 1) for s in used)
    shown = f"{neo4j:.2f} ms" if neo4j else "n/a (not the local server)"
    return f"service {service:.2f} ms, Neo4j {shown}, load generator {load:.2f} ms"


@dataclass(frozen=True)
class Window:
    """One stretch of load at a rate: latencies (ms), rate done, failures, CPU used (s)."""

    latencies: list[float]
    achieved: float
    failed: Counter[str]
    used: list[float]

    def report(self, title: str) -> str:
        h50, h99 = percentiles(self.latencies)
        sent = len(self.latencies) + self.failed.total()
        return (
            f"HTTP + ledger, {title} ({self.achieved:4.0f}/s done, "
            f"{self.failed.total()} failed): p50 {h50:7.2f} ms  p99 {h99:7.2f} ms"
            + (f"  failures: {dict(self.failed)}" if self.failed else "")
            + "\n  CPU per decision: "
            + cpu_per_decision(self.used, sent)
        )

    @staticmethod
    def together(windows: list[Window]) -> Window:
        cpu_used = [sum(each) for each in zip(*(w.used for w in windows), strict=True)]
        return Window(
            [ms for w in windows for ms in w.latencies],
            statistics.mean(w.achieved for w in windows),
            sum((w.failed for w in windows), Counter()),
            cpu_used,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rates", type=float, nargs="+", default=[50.0, 100.0, 200.0])
    parser.add_argument("--seconds", type=float, default=5.0)
    # Neo4j's JIT takes minutes of load to settle, and its compiler threads compete with the
    # service for the CPU until it has (docs/performance.md). So the warm-up ends at the highest
    # rate to be measured, the load whose steady state is reported, and lasts long enough for
    # the compilation to die down.
    parser.add_argument(
        "--warmup",
        type=float,
        default=120.0,
        help=f"seconds at the highest rate (after {COLD:.0f} s at 100/s), not counted",
    )
    # A soak run: the graph grows by a decision and its ledger entry at every request, and a
    # service must keep its latency as it does (kgservice/graph/plans.py).
    parser.add_argument(
        "--windows",
        type=int,
        default=1,
        help="measure each rate as this many windows of --seconds in a row, "
        "each reported, then all together",
    )
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--history", type=int, default=50_000, help="earlier decisions in the graph before the run"
    )
    args = parser.parse_args()
    fast = in_process(Engine.shifty, 2000)
    reference = in_process(Engine.pyshacl, 200)
    p50, p99 = percentiles(fast)
    r50, r99 = percentiles(reference)
    print(f"in-process, fast path:   p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  (2000 corpus requests)")
    print(
        f"in-process, pySHACL:     p50 {r50:6.2f} ms  p99 {r99:6.2f} ms  (ratio {r50 / p50:.0f}x)"
    )
    m50, m99 = percentiles(in_process(Engine.shifty, 2000, remembered=True))
    print(f"in-process, remembered: p50 {m50:6.2f} ms  p99 {m99:6.2f} ms  (same requests again)")
    key = asyncio.run(prepare(args.history))
    server = subprocess.Popen(  # noqa: S603 - our own service on loopback
        [
            sys.executable,
            "-m",
            "kgservice.cli",
            "serve",
            "--port",
            str(PORT),
            "--workers",
            str(args.workers),
        ],
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_ready()
        asyncio.run(over_http(key, 100.0, COLD))
        asyncio.run(over_http(key, max(args.rates), args.warmup))
        neo4j = cpu.local_neo4j_pid(get_settings())
        for rate in args.rates:
            runs = []
            for window in range(args.windows):
                before = cpu_now(server.pid, neo4j)
                latencies, achieved, failed = asyncio.run(over_http(key, rate, args.seconds))
                used = [b - a for a, b in zip(before, cpu_now(server.pid, neo4j), strict=True)]
                runs.append(Window(latencies, achieved, failed, used))
                of = f", window {window + 1} of {args.windows}" if args.windows > 1 else ""
                print(runs[-1].report(f"{rate:4.0f}/s offered{of}"), flush=True)
            if args.windows > 1:
                print(Window.together(runs).report(f"{rate:4.0f}/s offered, all {args.windows}"))
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
