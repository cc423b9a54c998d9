"""`shield principals create|list|revoke`: API keys for people and systems."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from pydantic import ValidationError

from kgservice.auth import service
from kgservice.auth.roles import Role
from kgservice.auth.schemas import PrincipalIn
from kgservice.cli.context import actor, err, fail, out, print_json, session
from kgservice.cli.exit_codes import Exit

app = typer.Typer(help="Create and revoke principals (API keys).")


@app.command()
def create(
    name: Annotated[str, typer.Option(help="who or what holds the key")],
    role: Annotated[Role, typer.Option(help="what the key may do")],
    institution: Annotated[str | None, typer.Option(help="institution id the key acts for")] = None,
    fmt: Annotated[str, typer.Option("--format", help="text or json")] = "text",
) -> None:
    """Create a principal and print its API key (shown once; only a hash is stored)."""
    try:
        spec = PrincipalIn(name=name, role=role, institution=institution)
    except ValidationError as e:
        fail(e.errors()[0]["msg"], Exit.usage)

    async def run() -> None:
        async with session() as (graph, ledger):
            principal, key, receipt = await graph.write(
                service.create_principal, ledger, actor(), spec
            )
        if fmt == "json":
            print_json({"principal": principal.model_dump(), "api_key": key, "seq": receipt.seq})
            return
        out.print(f"{principal.id}  {principal.role}  {principal.institution or '(alliance)'}")
        out.print(key)
        err.print("Store this key now: it is not shown again. Ledger entry", receipt.seq)

    asyncio.run(run())


@app.command("list")
def list_() -> None:
    """List principals (never their keys)."""

    async def run() -> None:
        async with session() as (graph, _):
            principals = await graph.read(service.list_principals)
        print_json([p.model_dump() for p in principals])

    asyncio.run(run())


@app.command()
def revoke(principal_id: str) -> None:
    """Revoke a principal's key at once."""

    async def run() -> None:
        async with session() as (graph, ledger):
            principal, receipt = await graph.write(
                service.revoke_principal, ledger, actor(), principal_id
            )
        out.print(f"revoked {principal.id} (ledger entry {receipt.seq})")

    asyncio.run(run())
