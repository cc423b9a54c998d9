"""Settlement benchmark: exact Shapley at 12 players, estimator error against exact (and pyDVL's
truncated Monte Carlo on the same utility and budget), federated against centralised AUC on real
datasets partitioned non-IID, and the wall time of a 3-institution × 5-round Flower job with its
settlement.

`python -m bench.settlement` (needs a Neo4j for the job: `make bench` starts its own). pyDVL
pins numpy below 2, so it runs from its own environment: set PYDVL_PYTHON to that interpreter
(e.g. `python3 -m venv /tmp/pydvl && /tmp/pydvl/bin/pip install pydvl "numpy<2" scikit-learn`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes

from kgservice.training.federation import APP
from settlement.shapley import (
    Game,
    exact,
    guided_sampling,
    permutation_sampling,
    truncated_monte_carlo,
)

sys.path.insert(0, str(APP))  # the Flower app's own package, as its nodes load it
from hsfl import model

Arrays = tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]


def dataset(name: str) -> Arrays:
    if name == "breast-cancer":
        x, y = load_breast_cancer(return_X_y=True)
    else:  # diabetes progression, above or below its median: a binary task
        x, y = load_diabetes(return_X_y=True)
        y = (y > np.median(y)).astype(float)
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def partition(
    x: np.ndarray[Any, Any], y: np.ndarray[Any, Any], parts: int, alpha: float, seed: int
) -> tuple[list[Arrays], Arrays]:
    """Non-IID: label proportions per institution from Dirichlet(alpha); 25 % held out first."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y))
    test = order[: len(y) // 4]
    train = order[len(y) // 4 :]
    shares = rng.dirichlet([alpha] * parts, size=2)  # per label: how it spreads over parts
    buckets: list[list[int]] = [[] for _ in range(parts)]
    for label in (0, 1):
        idx = [i for i in train if y[i] == label]
        cuts = (np.cumsum(shares[label]) * len(idx)).astype(int)[:-1]
        for k, chunk in enumerate(np.split(np.asarray(idx), cuts)):
            buckets[k] += chunk.tolist()
    return [(x[b], y[b]) for b in buckets], (x[test], y[test])


def central(parts: list[Arrays], epochs: int = 200, lr: float = 0.5) -> model.Vector:
    x = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    return model.train(model.initial(x.shape[1]), x, y, epochs, lr)


def federated(
    parts: list[Arrays], rounds: int = 20, epochs: int = 10, lr: float = 0.5
) -> model.Vector:
    """FedAvg with the very functions the Flower nodes run (hsfl.model)."""
    w = model.initial(parts[0][0].shape[1])
    for _ in range(rounds):
        trained = [model.train(w, x, y, epochs, lr) for x, y in parts if len(y)]
        w = model.average(trained, [len(y) for _, y in parts if len(y)])
    return w


def utility_table(parts: list[Arrays], test: Arrays) -> dict[str, float]:
    """v(S) = test accuracy (%) of the model trained on S's data; every coalition."""
    n = len(parts)
    names = [f"I{i:02d}" for i in range(n)]
    table = {"": 100 * model.accuracy(model.initial(test[0].shape[1]), *test)}
    for k in range(1, n + 1):
        for group in combinations(range(n), k):
            w = central([parts[i] for i in group], epochs=60)
            table[",".join(names[i] for i in group)] = 100 * model.accuracy(w, *test)
    return table


def estimator_errors(table: dict[str, float], players: list[str], permutations: int) -> None:
    game = Game.of(
        players, {frozenset(k.split(",")) if k else frozenset(): v for k, v in table.items()}
    )
    start = time.perf_counter()
    truth = exact(game)
    print(
        f"exact Shapley, {len(players)} players from cached utilities: "
        f"{time.perf_counter() - start:.3f} s"
    )

    def v(s: frozenset[str]) -> float:
        return float(game.v(s))

    runs = (
        permutation_sampling(players, v, permutations, 1),
        truncated_monte_carlo(players, v, permutations, 0.5, 1),
        guided_sampling(players, v, permutations, 0.5, 1),
    )
    for e in runs:
        err = [abs(e.values[p] - float(truth[p])) for p in players]
        print(
            f"  {e.method:22s} {permutations} permutations, {e.evaluations:5d} utility calls: "
            f"max |error| {max(err):.3f}, mean {np.mean(err):.3f}, "
            f"mean SE {np.mean(list(e.stderr.values())):.3f}"
        )
    pydvl = os.environ.get("PYDVL_PYTHON")
    if not pydvl:
        print("  pyDVL: set PYDVL_PYTHON to an environment with pydvl to compare")
        return
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(
            {"players": players, "values": table, "permutations": permutations, "tolerance": 0.5}, f
        )
    helper = Path(__file__).with_name("pydvl_tmc.py")
    done = subprocess.run(  # noqa: S603 - our own helper script, run by the pyDVL interpreter
        [pydvl, str(helper), f.name],
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    if done.returncode != 0:
        print(f"  pyDVL failed: {done.stderr.strip().splitlines()[-1:]}")
        return
    result = json.loads(done.stdout)
    err = [abs(result["values"][p] - float(truth[p])) for p in players]
    print(
        f"  {'pyDVL TMC':22s} {result['permutations']} permutations, "
        f"{result['calls']:5d} utility calls: max |error| {max(err):.3f}, "
        f"mean {np.mean(err):.3f}  (pyDVL {result['version']})"
    )


async def job_wall_time(rounds: int) -> None:
    from bench.ledger import wipe
    from ingest.grading import Grader
    from ingest.pipeline import Pipeline
    from ingest.readers.meter import load_mappings
    from kgservice.decisions.engine import DecisionEngine
    from kgservice.demo import seed, seed_records, seed_rewards
    from kgservice.demo.scenario import run
    from kgservice.graph.database import Graph, create_driver
    from kgservice.ledger.service import Ledger
    from kgservice.ledger.signing import load_signer
    from kgservice.records.protection import load_protector
    from kgservice.schema_registry import ensure_schema
    from kgservice.settings import get_settings

    settings = get_settings()
    graph = Graph(create_driver(settings), settings.neo4j.database, 60.0)
    ledger = Ledger(load_signer(settings))
    try:
        await wipe(graph)
        await ensure_schema(graph)
        keys = await seed(graph, ledger, "bench", {})
        await seed_records(
            graph,
            ledger,
            load_protector(settings),
            Pipeline(Grader.from_directory(), load_mappings()),
            keys,
        )
        await seed_rewards(graph, ledger, keys)
        marks: list[tuple[str, float]] = []
        start = time.perf_counter()
        outcome = await run(
            graph,
            ledger,
            DecisionEngine(graph, ledger, settings.decisions),
            settings.training,
            load_protector(settings),
            keys,
            lambda s: marks.append((s, time.perf_counter())),
            rounds,
        )
        names = [s for s, _ in marks]
        at = dict(marks)
        job_start = at[next(s for s in names if s.startswith("federated"))]
        settled = at[next(s for s in names if s.startswith("upload"))]
        job = outcome.job
        auc = job.history[-1].auc if job and job.history else None
        print(
            f"3-institution × {rounds}-round Flower job incl. settlement: "
            f"{settled - job_start:.1f} s (whole scenario {time.perf_counter() - start:.1f} s); "
            f"final validation accuracy {job.history[-1].accuracy if job else 0:.1f} %, "
            f"AUC {auc if auc is None else round(auc, 3)}"
        )
    finally:
        await graph.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--players", type=int, default=12)
    parser.add_argument("--permutations", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-job", action="store_true", help="skip the Flower job (no Neo4j)")
    args = parser.parse_args()
    for name in ("breast-cancer", "diabetes"):
        x, y = dataset(name)
        parts, test = partition(x, y, 3, alpha=0.5, seed=7)
        fed, cen = federated(parts), central(parts)
        print(
            f"{name}: 3 institutions, non-IID (Dirichlet 0.5), sizes "
            f"{[len(p[1]) for p in parts]}: federated AUC {model.auc(fed, *test):.3f}, "
            f"centralised AUC {model.auc(cen, *test):.3f}"
        )
    x, y = dataset("breast-cancer")
    parts, test = partition(x, y, args.players, alpha=0.5, seed=11)
    start = time.perf_counter()
    table = utility_table(parts, test)
    print(
        f"breast-cancer, {args.players} institutions: {len(table)} coalition utilities by "
        f"retraining in {time.perf_counter() - start:.1f} s"
    )
    estimator_errors(table, [f"I{i:02d}" for i in range(args.players)], args.permutations)
    if not args.no_job:
        asyncio.run(job_wall_time(args.rounds))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
