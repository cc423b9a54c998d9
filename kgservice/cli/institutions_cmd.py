"""`shield institutions create|list`."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from pydantic import ValidationError

from kgservice.cli.context import actor, fail, out, print_json, session
from kgservice.cli.exit_codes import Exit
from kgservice.institutions import service
from kgservice.institutions.schemas import InstitutionIn, Tier

app = typer.Typer(help="Register the alliance's institutions.")


@app.command()
def create(
    institution_id: Annotated[str, typer.Argument(help="stable slug, e.g. hosp-a")],
    name: Annotated[str, typer.Option()],
    tier: Annotated[Tier, typer.Option()],
) -> None:
    """Register an institution (ledgered)."""
    try:
        spec = InstitutionIn(id=institution_id, name=name, tier=tier)
    except ValidationError as e:
        fail(str(e.errors()[0]["msg"]), Exit.usage)

    async def run() -> None:
        async with session() as (graph, ledger):
            inst, receipt = await graph.write(service.register, ledger, actor(), spec)
        out.print(f"registered {inst.id} (ledger entry {receipt.seq})")

    asyncio.run(run())


@app.command("list")
def list_() -> None:
    """List institutions."""

    async def run() -> None:
        async with session() as (graph, _):
            items = await graph.read(service.list_institutions)
        print_json([i.model_dump() for i in items])

    asyncio.run(run())
