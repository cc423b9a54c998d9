"""Shapley values of a cooperative game, as pure functions.

``exact`` computes every player's Shapley value from a full characteristic function (all 2^n
coalitions, n ≤ 15), in exact rational arithmetic when the values are rational — so the seed's
example gives A = 190/3, B = 70/3, C = 40/3 (63.33 / 23.33 / 13.33), not a float near it.
``weighted`` is the weighted Shapley value of Kalai and Samet (each Harsanyi dividend shared in
proportion to positive player weights, e.g. data size); with equal weights it is ``exact``.

For more players, where 2^n coalition utilities cannot be had, the estimators take a utility
*function* and evaluate coalitions on demand: plain permutation sampling, truncated Monte Carlo
(marginals after the running utility is within a tolerance of v(N) are taken as zero), and
guided sampling in the style of GTG-Shapley (every block of n permutations puts each player first
once, so no one is always late; plus the same truncation). Each returns the standard error of
every estimate.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TypeAlias

Number: TypeAlias = Fraction | float
MAX_EXACT_PLAYERS = 15


class GameError(ValueError):
    """The game is not well formed; the message says what is missing or wrong."""


@dataclass(frozen=True, slots=True)
class Game:
    """A characteristic function over named players; coalitions as bit masks of ``players``."""

    players: tuple[str, ...]
    values: tuple[Number, ...]  # index: bit mask of the coalition (bit i = players[i])

    @classmethod
    def of(cls, players: Sequence[str], values: Mapping[frozenset[str], Number]) -> Game:
        names = tuple(players)
        if len(set(names)) != len(names):
            raise GameError("player names must be distinct")
        if not 1 <= len(names) <= MAX_EXACT_PLAYERS:
            raise GameError(f"exact Shapley needs 1 to {MAX_EXACT_PLAYERS} players")
        known = set(names)
        table: list[Number | None] = [None] * (1 << len(names))
        for coalition, value in values.items():
            unknown = coalition - known
            if unknown:
                raise GameError(f"coalition names unknown players: {', '.join(sorted(unknown))}")
            table[mask_of(names, coalition)] = value
        missing = [i for i, v in enumerate(table) if v is None]
        if missing:
            first = ",".join(coalition_of(names, missing[0])) or "(empty)"
            raise GameError(f"{len(missing)} coalition value(s) missing, e.g. '{first}'")
        return cls(names, tuple(v for v in table if v is not None))

    def v(self, coalition: Iterable[str]) -> Number:
        return self.values[mask_of(self.players, frozenset(coalition))]


def mask_of(players: Sequence[str], coalition: frozenset[str]) -> int:
    return sum(1 << i for i, p in enumerate(players) if p in coalition)


def coalition_of(players: Sequence[str], mask: int) -> list[str]:
    return [p for i, p in enumerate(players) if mask >> i & 1]


def _exact_weights(n: int, exact: bool) -> list[Number]:
    """|S|! (n-|S|-1)! / n! for each coalition size |S| = 0 … n-1."""
    total = math.factorial(n)
    counts = [math.factorial(s) * math.factorial(n - s - 1) for s in range(n)]
    return [Fraction(c, total) if exact else c / total for c in counts]


def _is_exact(values: Iterable[Number]) -> bool:
    return all(isinstance(v, Fraction | int) for v in values)


def exact(game: Game) -> dict[str, Number]:
    """Shapley values; Fractions when every coalition value is rational, floats otherwise."""
    n = len(game.players)
    rational = _is_exact(game.values)
    weights = _exact_weights(n, rational)
    out: dict[str, Number] = {}
    for i, player in enumerate(game.players):
        bit = 1 << i
        total: Number = Fraction(0) if rational else 0.0
        for mask in range(1 << n):
            if mask & bit:
                continue
            marginal = game.values[mask | bit] - game.values[mask]
            total += weights[mask.bit_count()] * marginal
        out[player] = total
    return out


def dividends(game: Game) -> list[Number]:
    """Harsanyi dividends d(T) = Σ_{S⊆T} (-1)^{|T|-|S|} v(S), by the fast Möbius transform."""
    d = list(game.values)
    n = len(game.players)
    for i in range(n):
        bit = 1 << i
        for mask in range(1 << n):
            if mask & bit:
                d[mask] = d[mask] - d[mask ^ bit]
    return d


def weighted(game: Game, weights: Mapping[str, Number]) -> dict[str, Number]:
    """Weighted Shapley value (Kalai–Samet): every dividend d(T) is shared among the members of
    T in proportion to their weights. Efficient like Shapley; equal weights give Shapley."""
    missing = [p for p in game.players if p not in weights]
    if missing:
        raise GameError(f"no weight for {', '.join(missing)}")
    w = [weights[p] for p in game.players]
    if any(x <= 0 for x in w):
        raise GameError("weights must be positive")
    rational = _is_exact(game.values) and _is_exact(w)
    out: list[Number] = [Fraction(0) if rational else 0.0 for _ in game.players]
    for mask, d in enumerate(dividends(game)):
        if mask == 0 or d == 0:
            continue
        members = [i for i in range(len(w)) if mask >> i & 1]
        total = sum((w[i] for i in members), Fraction(0) if rational else 0.0)
        for i in members:
            out[i] += d * w[i] / total
    return dict(zip(game.players, out, strict=True))


# ---- estimators for many players


@dataclass(frozen=True, slots=True)
class Estimate:
    values: dict[str, float]
    stderr: dict[str, float]
    permutations: int
    evaluations: int  # utility evaluations actually made (truncation saves some)
    method: str


Utility = Callable[[frozenset[str]], float]


class _Counted:
    """A utility with a cache and a count of distinct evaluations (they are the cost)."""

    def __init__(self, utility: Utility) -> None:
        self.utility = utility
        self.cache: dict[frozenset[str], float] = {}

    def __call__(self, coalition: frozenset[str]) -> float:
        if coalition not in self.cache:
            self.cache[coalition] = float(self.utility(coalition))
        return self.cache[coalition]


def _walk(
    order: Sequence[str],
    v: _Counted,
    full: float,
    tolerance: float | None,
) -> dict[str, float]:
    marginals: dict[str, float] = {}
    prefix: frozenset[str] = frozenset()
    before = v(prefix)
    for player in order:
        if tolerance is not None and abs(full - before) <= tolerance:
            marginals[player] = 0.0  # truncated: the rest adds (almost) nothing
            continue
        prefix = prefix | {player}
        after = v(prefix)
        marginals[player] = after - before
        before = after
    return marginals


def _summarise(samples: dict[str, list[float]], k: int, v: _Counted, method: str) -> Estimate:
    values, errors = {}, {}
    for player, xs in samples.items():
        mean = sum(xs) / len(xs)
        var = sum((x - mean) ** 2 for x in xs) / (len(xs) - 1) if len(xs) > 1 else 0.0
        values[player] = mean
        errors[player] = math.sqrt(var / len(xs))
    return Estimate(values, errors, k, len(v.cache), method)


def permutation_sampling(
    players: Sequence[str], utility: Utility, permutations: int, seed: int = 0
) -> Estimate:
    """Monte Carlo over random orderings (Castro et al. 2009): unbiased, SE ∝ 1/√permutations."""
    return _sample(players, utility, permutations, seed, None, guided=False, method="permutation")


def truncated_monte_carlo(
    players: Sequence[str], utility: Utility, permutations: int, tolerance: float, seed: int = 0
) -> Estimate:
    """Permutation sampling that stops evaluating an ordering once the running utility is within
    ``tolerance`` of v(N) (Ghorbani & Zou 2019): far fewer evaluations, a small bias."""
    return _sample(
        players,
        utility,
        permutations,
        seed,
        tolerance,
        guided=False,
        method="truncated-monte-carlo",
    )


def guided_sampling(
    players: Sequence[str], utility: Utility, permutations: int, tolerance: float, seed: int = 0
) -> Estimate:
    """GTG-Shapley-style sampling (Liu et al. 2022): orderings in blocks of n where each player
    leads once, with within-ordering truncation."""
    return _sample(
        players, utility, permutations, seed, tolerance, guided=True, method="guided-truncated"
    )


def _sample(
    players: Sequence[str],
    utility: Utility,
    permutations: int,
    seed: int,
    tolerance: float | None,
    guided: bool,
    method: str,
) -> Estimate:
    if permutations < 2:
        raise GameError("at least 2 permutations are needed for a standard error")
    names = list(players)
    rng = random.Random(seed)  # noqa: S311 - sampling orderings, not secrets
    v = _Counted(utility)
    full = v(frozenset(names))
    samples: dict[str, list[float]] = {p: [] for p in names}
    for k in range(permutations):
        order = names[:]
        rng.shuffle(order)
        if guided:
            lead = names[k % len(names)]
            order.remove(lead)
            order.insert(0, lead)
        for player, marginal in _walk(order, v, full, tolerance).items():
            samples[player].append(marginal)
    return _summarise(samples, permutations, v, method)
