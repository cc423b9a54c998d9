"""Shapley maths: the seed's example exactly, the axioms as properties, weighted values, the
estimators against exact values, and game files as stewards write them."""

from __future__ import annotations

import json
from collections.abc import Callable
from fractions import Fraction
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from kgservice.cli.main import app
from settlement.games import loads, show, solve
from settlement.shapley import (
    Game,
    GameError,
    exact,
    guided_sampling,
    permutation_sampling,
    truncated_monte_carlo,
    weighted,
)

SEED_GAME: dict[str, Any] = {
    "players": ["A", "B", "C"],
    "values": {"": 0, "A": 50, "B": 10, "C": 10, "A,B": 85, "A,C": 65, "B,C": 25, "A,B,C": 100},
}


def test_the_seeds_example_comes_out_exactly() -> None:
    game, weights = loads(json.dumps(SEED_GAME))
    values = solve(game, weights)
    assert values == {"A": Fraction(190, 3), "B": Fraction(70, 3), "C": Fraction(40, 3)}
    assert [round(float(v), 1) for v in values.values()] == [63.3, 23.3, 13.3]
    assert {p: show(v) for p, v in values.items()} == {"A": "190/3", "B": "70/3", "C": "40/3"}


def test_cli_prints_fractions_and_a_table(tmp_path: Path) -> None:
    path = tmp_path / "game.json"
    values = {k: v for k, v in SEED_GAME["values"].items() if k != "A,C"}
    reordered = {"players": SEED_GAME["players"], "values": {**values, "C,A": 65}}
    path.write_text(json.dumps(reordered), encoding="utf-8")
    result = CliRunner().invoke(app, ["shapley", str(path)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"A": "190/3", "B": "70/3", "C": "40/3"}
    table = CliRunner().invoke(app, ["shapley", str(path), "--format", "table"])
    assert "63.33" in table.output
    assert "23.3 %" in table.output
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"players": ["A", "B"], "values": {"A": 1, "A,B": 2}}), "utf-8")
    refused = CliRunner().invoke(app, ["shapley", str(bad)])
    assert refused.exit_code == 2
    assert "missing, e.g. 'B'" in refused.output


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"players": ["A"], "values": {"A": "x"}}, "values['A']: 'x' is not a number"),
        ({"players": ["A"], "values": {"A,Z": 1}}, "unknown players: Z"),
        ({"players": ["A", "A"], "values": {}}, "distinct"),
        ({"players": ["A"], "values": {"A": 1, " A": 2}}, "given twice"),
        ({"players": "A", "values": {}}, "'players' must be a list"),
        (
            {
                "players": ["A", "B"],
                "values": {"A": 1, "B": 1, "A,B": 3},
                "weights": {"A": 1, "B": 0},
            },
            "positive",
        ),
    ],
)
def test_bad_games_are_named(doc: dict[str, object], message: str) -> None:
    def run() -> None:
        game, weights = loads(json.dumps(doc))
        solve(game, weights)

    with pytest.raises(GameError, match=message.replace("[", r"\[").replace("]", r"\]")):
        run()


def test_decimal_values_stay_exact() -> None:
    game, _ = loads('{"players": ["A", "B"], "values": {"A": 0.1, "B": 0.2, "A,B": 0.4}}')
    assert exact(game) == {"A": Fraction(3, 20), "B": Fraction(1, 4)}


def game_of(n: int, raw: list[int]) -> Game:
    players = [f"P{i}" for i in range(n)]
    values: dict[frozenset[str], float | Fraction] = {frozenset(): Fraction(0)}
    k = 0
    for size in range(1, n + 1):
        for c in combinations(players, size):
            values[frozenset(c)] = Fraction(raw[k % len(raw)])
            k += 1
    return Game.of(players, values)


games = st.integers(min_value=1, max_value=6).flatmap(
    lambda n: st.lists(st.integers(-50, 100), min_size=1, max_size=64).map(lambda r: game_of(n, r))
)


@given(games)
def test_efficiency(game: Game) -> None:
    full = frozenset(game.players)
    assert sum(exact(game).values()) == game.v(full) - game.v(frozenset())


@given(games)
def test_symmetric_players_get_the_same(game: Game) -> None:
    if len(game.players) < 2:
        return
    a, b = game.players[:2]
    # Make a and b interchangeable: v(S ∪ {a}) := v(S ∪ {b}) for every S without either.
    values: dict[frozenset[str], float | Fraction] = {
        frozenset(c): game.v(c) for c in _all(game.players)
    }
    for c in _all(game.players):
        s = frozenset(c)
        if a not in s and b not in s:
            values[s | {a}] = values[s | {b}]
    twin = Game.of(game.players, values)
    phi = exact(twin)
    assert phi[a] == phi[b]


@given(games)
def test_a_null_player_gets_nothing(game: Game) -> None:
    null = game.players[-1]
    values = {frozenset(c): game.v(frozenset(c) - {null}) for c in _all(game.players)}
    assert exact(Game.of(game.players, values))[null] == 0


@given(games, games)
def test_additivity(g: Game, h: Game) -> None:
    if g.players != h.players:
        return
    both = Game.of(g.players, {frozenset(c): g.v(c) + h.v(c) for c in _all(g.players)})
    sum_g, sum_h, sum_both = exact(g), exact(h), exact(both)
    assert all(sum_both[p] == sum_g[p] + sum_h[p] for p in g.players)


@given(games, st.lists(st.integers(1, 9), min_size=6, max_size=6))
def test_weighted_value_is_efficient_and_equal_weights_give_shapley(
    game: Game, raw: list[int]
) -> None:
    w = {p: Fraction(raw[i]) for i, p in enumerate(game.players)}
    full = frozenset(game.players)
    assert sum(weighted(game, w).values()) == game.v(full) - game.v(frozenset())
    assert weighted(game, dict.fromkeys(game.players, Fraction(1))) == exact(game)


def test_weights_favour_the_heavier_player_in_synergy() -> None:
    # Only together do A and B create value: the dividend is shared by weight (data size).
    values: dict[frozenset[str], float | Fraction] = {
        frozenset(): Fraction(0),
        frozenset("A"): Fraction(0),
        frozenset("B"): Fraction(0),
        frozenset("AB"): Fraction(90),
    }
    game = Game.of(["A", "B"], values)
    assert weighted(game, {"A": Fraction(2), "B": Fraction(1)}) == {"A": 60, "B": 30}


def _all(players: tuple[str, ...]) -> list[tuple[str, ...]]:
    return [c for size in range(len(players) + 1) for c in combinations(players, size)]


def _saturating(n: int) -> tuple[list[str], dict[str, float]]:
    """A game where utility saturates (like model accuracy): v(S) = 1 - Π(1 - q_i)."""
    players = [f"I{i}" for i in range(n)]
    return players, {p: 0.2 + 0.6 * (i % 5) / 5 for i, p in enumerate(players)}


def _utility(q: dict[str, float]) -> Callable[[frozenset[str]], float]:
    def v(s: frozenset[str]) -> float:
        miss = 1.0
        for p in s:
            miss *= 1 - q[p]
        return 1 - miss

    return v


@settings(deadline=None, max_examples=5)
@given(st.integers(0, 1000))
def test_estimators_agree_with_exact_within_their_errors(seed: int) -> None:
    players, q = _saturating(8)
    v = _utility(q)
    values: dict[frozenset[str], float | Fraction] = {
        frozenset(c): v(frozenset(c)) for c in _all(tuple(players))
    }
    game = Game.of(players, values)
    truth = exact(game)
    estimates = (
        permutation_sampling(players, v, 400, seed),
        truncated_monte_carlo(players, v, 400, 1e-3, seed),
        guided_sampling(players, v, 400, 1e-3, seed),
    )
    for estimate in estimates:
        for p in players:
            err = abs(estimate.values[p] - float(truth[p]))
            assert err <= 4 * estimate.stderr[p] + 2e-3, (estimate.method, p, err)


def test_truncation_saves_evaluations() -> None:
    players, q = _saturating(12)
    v = _utility(q)
    plain = permutation_sampling(players, v, 200, 1)
    cut = truncated_monte_carlo(players, v, 200, 1e-2, 1)
    assert cut.evaluations < plain.evaluations
    assert sum(cut.values.values()) == pytest.approx(sum(plain.values.values()), abs=0.02)
