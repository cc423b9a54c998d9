"""Entry point of the `shield` command."""

from __future__ import annotations

from importlib.util import find_spec

import typer

from kgservice.cli import (
    ingest_cmd,
    institutions_cmd,
    ledger_cmd,
    principals_cmd,
    rules_cmd,
    serve_cmd,
    shapley_cmd,
    text_cmds,
)
from kgservice.cli.context import fail
from kgservice.cli.exit_codes import Exit

# Packages of the source checkout that the wheel leaves out (pyproject.toml), and what their
# commands tell a user of the installed package instead.
DEVELOPMENT = {
    "neo4j": (
        "kgservice.localneo4j",
        "the local Neo4j launcher comes with the source checkout (`make install`); an installed "
        "service uses the Neo4j that NEO4J_URI, NEO4J_USERNAME and NEO4J_PASSWORD name",
    ),
    "demo": (
        "kgservice.demo",
        "the demo comes with the source checkout (`make run`), not with the installed package",
    ),
}

app = typer.Typer(
    help="Health Shield (健康算法盾): compliance service for health data.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(principals_cmd.app, name="principals")
app.add_typer(institutions_cmd.app, name="institutions")
app.add_typer(ledger_cmd.app, name="ledger")
app.add_typer(ingest_cmd.app, name="ingest")
app.add_typer(rules_cmd.app, name="rules")
app.command("serve")(serve_cmd.serve)
app.command("ocr")(text_cmds.ocr)
app.command("identifiers")(text_cmds.identifiers)
app.command("shapley")(shapley_cmd.shapley)


def _add_development_commands() -> None:
    if find_spec(DEVELOPMENT["neo4j"][0]) is not None:
        from kgservice.localneo4j import cli as neo4j_cli

        app.add_typer(neo4j_cli.app, name="neo4j")
    else:
        _absent("neo4j")
    if find_spec(DEVELOPMENT["demo"][0]) is not None:
        from kgservice.demo import cli as demo_cli

        app.command("demo")(demo_cli.run_demo)
    else:
        _absent("demo")


def _absent(name: str) -> None:
    """`shield NAME ...` that says where the command is, whatever its arguments."""
    message = DEVELOPMENT[name][1]

    def command() -> None:
        fail(message, Exit.environment)

    app.command(
        name,
        help=f"Not installed: {message}.",
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    )(command)


_add_development_commands()
