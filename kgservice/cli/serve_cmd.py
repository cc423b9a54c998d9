"""`shield serve`: run the API with uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from kgservice.cli.context import settings


def serve(
    host: Annotated[str, typer.Option(help="bind address")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    workers: Annotated[int, typer.Option(help="worker processes (they share only Neo4j)")] = 1,
) -> None:
    """Run the Health Shield API."""
    settings()  # fail fast, with a clear message, on bad or placeholder settings
    uvicorn.run(
        "kgservice.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=False,
    )
