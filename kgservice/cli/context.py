"""What CLI commands share: settings, a graph session for one command, output helpers."""

from __future__ import annotations

import getpass
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, NoReturn

import typer
from rich.console import Console

from kgservice.cli.exit_codes import Exit
from kgservice.errors import ShieldError
from kgservice.graph.database import Graph, create_driver
from kgservice.ledger.service import Ledger
from kgservice.ledger.signing import SigningKeyError, load_signer
from kgservice.schema_registry import ensure_schema
from kgservice.settings import Settings, get_settings

err = Console(stderr=True)
out = Console(highlight=False, soft_wrap=True)


def actor() -> str:
    """Ledger actor for changes made from the command line."""
    return f"cli:{getpass.getuser()}"


def settings() -> Settings:
    try:
        return get_settings()
    except ValueError as e:
        fail(str(e), Exit.environment)


def fail(message: str, code: Exit = Exit.failure) -> NoReturn:
    err.print(f"[red]error:[/red] {message}")
    raise typer.Exit(int(code))


def print_json(value: Any) -> None:
    out.print_json(json.dumps(value, ensure_ascii=False))


def ledger_from_settings() -> Ledger:
    try:
        return Ledger(load_signer(settings()))
    except SigningKeyError as e:
        fail(str(e), Exit.environment)


@asynccontextmanager
async def graph_session() -> AsyncIterator[Graph]:
    """A graph with the schema ensured, for the length of one command."""
    cfg = settings()
    graph = Graph(create_driver(cfg), cfg.neo4j.database, cfg.neo4j.transaction_timeout_s)
    try:
        await ensure_schema(graph)
        yield graph
    except ShieldError as e:
        code = {404: Exit.not_found, 409: Exit.conflict, 503: Exit.environment}.get(
            e.status_code, Exit.failure
        )
        fail(e.detail, code)
    finally:
        await graph.close()


@asynccontextmanager
async def session() -> AsyncIterator[tuple[Graph, Ledger]]:
    """A graph and the ledger (with its signing key), for commands that append."""
    ledger = ledger_from_settings()
    async with graph_session() as graph:
        yield graph, ledger
