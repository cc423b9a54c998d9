"""`shield neo4j start|stop|status|logs`: the local Neo4j server (no Docker needed)."""

from __future__ import annotations

from typing import Annotated

import typer

from kgservice.cli.context import err, fail, out, settings
from kgservice.cli.exit_codes import Exit
from kgservice.localneo4j.server import LocalNeo4j, LocalNeo4jError

app = typer.Typer(help="Run a local Neo4j 5.26 assembled from Maven Central jars.")


def _server() -> LocalNeo4j:
    cfg = settings()
    if not cfg.uses_local_neo4j:
        fail(
            f"NEO4J_URI points at {cfg.neo4j_uri}; that server is used, not a local one",
            Exit.usage,
        )
    return LocalNeo4j(cfg.local_neo4j, cfg.neo4j.password.get_secret_value())


@app.command()
def start() -> None:
    """Fetch the jars if needed, write neo4j.conf, start the server and wait until it answers."""
    server = _server()
    try:
        with err.status(f"starting Neo4j {server.cfg.version} in {server.home} ..."):
            result = server.start()
    except LocalNeo4jError as e:
        fail(str(e), Exit.environment)
    out.print(f"Neo4j {server.cfg.version}: {result}, bolt://127.0.0.1:{server.cfg.bolt_port}")


@app.command()
def stop() -> None:
    """Stop the local server."""
    try:
        out.print(_server().stop())
    except LocalNeo4jError as e:
        fail(str(e), Exit.environment)


@app.command()
def status() -> None:
    """Say whether the local server runs (exit 1 if not)."""
    try:
        s = _server().status()
    except LocalNeo4jError as e:
        fail(str(e), Exit.environment)
    out.print(s.detail)
    if not s.running:
        raise typer.Exit(int(Exit.failure))


@app.command()
def logs(lines: Annotated[int, typer.Option(help="lines from the end of each log")] = 40) -> None:
    """Print the end of the server's logs."""
    out.print(_server().log_tail(lines))
