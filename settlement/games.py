"""Games as stewards write them (JSON) and Shapley values as they read them.

    {"players": ["A", "B", "C"],
     "values": {"": 0, "A": 50, "B": 10, "C": 10, "A,B": 85, "A,C": 65, "B,C": 25, "A,B,C": 100}}

Coalition keys are player names joined by commas, in any order ("" is the empty coalition).
Values are JSON numbers or strings such as "190/3"; decimals are read exactly (0.85 is 17/20), so
the result is exact fractions whenever the game is rational.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any

from settlement.shapley import Game, GameError, Number, exact, weighted


def number(raw: object, where: str) -> Fraction:
    """An exact rational from a JSON number (read as Decimal or int) or a "p/q" string."""
    if isinstance(raw, bool):
        raise GameError(f"{where}: {raw!r} is not a number")
    try:
        if isinstance(raw, int | Decimal):
            return Fraction(raw)
        if isinstance(raw, float):
            return Fraction(Decimal(repr(raw)))
        if isinstance(raw, str):
            return Fraction(raw.strip())
    except (ValueError, ZeroDivisionError, ArithmeticError):
        pass
    raise GameError(f"{where}: {raw!r} is not a number")


def coalition(key: str, players: set[str]) -> frozenset[str]:
    names = [k.strip() for k in key.split(",")] if key.strip() else []
    unknown = [n for n in names if n not in players]
    if unknown:
        raise GameError(f"coalition '{key}' names unknown players: {', '.join(unknown)}")
    if len(set(names)) != len(names):
        raise GameError(f"coalition '{key}' names a player twice")
    return frozenset(names)


def parse(doc: Mapping[str, Any]) -> tuple[Game, dict[str, Fraction] | None]:
    """The game and, if given, the players' weights."""
    players = doc.get("players")
    values = doc.get("values")
    if not isinstance(players, list) or not all(isinstance(p, str) and p for p in players):
        raise GameError("'players' must be a list of names")
    if any("," in p for p in players):
        raise GameError("player names cannot contain commas")
    if not isinstance(values, dict):
        raise GameError("'values' must map coalitions ('A,B') to numbers")
    known = set(players)
    table: dict[frozenset[str], Number] = {}
    for key, raw in values.items():
        c = coalition(key, known)
        if c in table:
            raise GameError(f"coalition '{key}' is given twice")
        table[c] = number(raw, f"values['{key}']")
    table.setdefault(frozenset(), Fraction(0))  # v(∅) = 0 unless said otherwise
    raw_weights = doc.get("weights")
    weights = None
    if raw_weights is not None:
        if not isinstance(raw_weights, dict):
            raise GameError("'weights' must map players to positive numbers")
        weights = {str(p): number(w, f"weights['{p}']") for p, w in raw_weights.items()}
    return Game.of(players, table), weights


def loads(text: str) -> tuple[Game, dict[str, Fraction] | None]:
    try:
        doc = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as e:
        raise GameError(f"not JSON: {e}") from None
    if not isinstance(doc, dict):
        raise GameError("a game is a JSON object with 'players' and 'values'")
    return parse(doc)


def solve(game: Game, weights: Mapping[str, Fraction] | None = None) -> dict[str, Number]:
    return exact(game) if weights is None else weighted(game, weights)


def show(value: Number) -> str | float:
    """Exact values as fraction strings ("190/3", "60"), others as numbers."""
    return str(value) if isinstance(value, Fraction) else value
