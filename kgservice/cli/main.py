"""Entry point of the `shield` command."""

from __future__ import annotations

import typer

from kgservice.cli import (
    demo_cmd,
    ingest_cmd,
    institutions_cmd,
    ledger_cmd,
    neo4j_cmd,
    principals_cmd,
    rules_cmd,
    serve_cmd,
    shapley_cmd,
    text_cmds,
)

app = typer.Typer(
    help="Health Shield (健康算法盾): compliance service for health data.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(neo4j_cmd.app, name="neo4j")
app.add_typer(principals_cmd.app, name="principals")
app.add_typer(institutions_cmd.app, name="institutions")
app.add_typer(ledger_cmd.app, name="ledger")
app.add_typer(ingest_cmd.app, name="ingest")
app.add_typer(rules_cmd.app, name="rules")
app.command("serve")(serve_cmd.serve)
app.command("demo")(demo_cmd.run_demo)
app.command("ocr")(text_cmds.ocr)
app.command("identifiers")(text_cmds.identifiers)
app.command("shapley")(shapley_cmd.shapley)
