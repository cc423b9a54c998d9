"""pyDVL's truncated Monte Carlo Shapley on a cached utility table (run by bench/settlement.py in
pyDVL's own environment: pyDVL pins numpy below 2). Not part of the service; imports nothing of it.

Usage: PYDVL_PYTHON bench/pydvl_tmc.py TABLE.json  →  JSON on stdout.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pydvl
from pydvl.utils import Dataset, Scorer, Utility
from pydvl.value.shapley.montecarlo import permutation_montecarlo_shapley
from pydvl.value.shapley.truncated import RelativeTruncation
from pydvl.value.stopping import MaxUpdates

spec = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
players = spec["players"]
# pyDVL 0.10's permutation sampler starts every ordering from a score of 0, i.e. takes v(∅) = 0.
# Shapley values do not change when one constant is subtracted from every coalition (marginals
# are differences), so the game is shifted to v(∅) = 0 first.
table = {k: v - spec["values"][""] for k, v in spec["values"].items()}
n = len(players)
# pyDVL evaluates in worker processes: each evaluation appends its coalition to this file.
calls = Path(sys.argv[1]).with_suffix(".calls")
calls.write_text("", encoding="utf-8")


class Lookup:
    """A 'model' whose fit remembers which players' rows it got; the scorer looks v(S) up."""

    key = ""

    def fit(self, x: Any, y: Any) -> None:
        self.key = ",".join(sorted(players[int(i)] for i in x[:, 0]))

    def predict(self, x: Any) -> Any:
        return np.zeros(len(x))


def score(model: Lookup, x: Any, y: Any) -> float:
    with calls.open("a", encoding="utf-8") as f:
        f.write(model.key + "\n")
    return float(table[model.key])


empty = table[""]
data = Dataset(np.arange(n, dtype=float).reshape(-1, 1), np.zeros(n), np.zeros((1, 1)), np.zeros(1))
u = Utility(
    Lookup(),
    data,
    Scorer(score, default=empty, name="table"),
    default_score=empty,
    catch_errors=False,
    clone_before_fit=False,
)
total = table[",".join(sorted(players))]
tolerance = spec.get("tolerance", 0.5)
result = permutation_montecarlo_shapley(
    u,
    MaxUpdates(spec.get("permutations", 200)),
    truncation=RelativeTruncation(u, rtol=tolerance / abs(total)),
    seed=1,
)
values = {players[int(i)]: float(v) for i, v in zip(result.indices, result.values, strict=True)}
distinct = set(calls.read_text(encoding="utf-8").splitlines())
print(
    json.dumps(
        {
            "values": values,
            "calls": len(distinct),
            "version": pydvl.__version__,
            "permutations": int(max(result.counts)),
        }
    )
)
