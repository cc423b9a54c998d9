"""`shield shapley GAME.json`: Shapley values of a game, for stewards to check by hand."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from kgservice.cli.context import fail, out, print_json
from kgservice.cli.exit_codes import Exit
from kgservice.cli.text_cmds import FormatOpt, Output
from settlement.games import loads, show, solve
from settlement.shapley import GameError


def shapley(
    game_file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    output: FormatOpt = Output.json,
) -> None:
    """Print each player's Shapley value: exact fractions ("190/3") when the game is rational.

    The file: {"players": ["A","B"], "values": {"": 0, "A": 1, "B": 2, "A,B": 4}}, optionally
    with "weights" for the weighted (Kalai–Samet) value."""
    try:
        game, weights = loads(game_file.read_text(encoding="utf-8"))
        values = solve(game, weights)
    except GameError as e:
        fail(f"{game_file.name}: {e}", Exit.usage)
    except UnicodeDecodeError:
        fail(f"{game_file.name}: not UTF-8 text", Exit.usage)
    if output is Output.json:
        print_json({p: show(v) for p, v in values.items()})
        return
    total = sum(float(v) for v in values.values())
    table = Table("player", "Shapley value", "decimal", "share")
    for player, value in values.items():
        share = f"{100 * float(value) / total:.1f} %" if total else "-"
        exact_text = str(value) if isinstance(value, Fraction) else f"{value:.6g}"
        table.add_row(player, exact_text, f"{float(value):.2f}", share)
    out.print(table)
