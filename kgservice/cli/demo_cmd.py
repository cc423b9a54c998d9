"""`shield demo`: seed the diabetes-alliance demo (institutions, one principal per role)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer

from kgservice import demo
from kgservice.cli.context import actor, out, session
from kgservice.settings import REPO_ROOT

DEFAULT_KEYS = REPO_ROOT / "var" / "demo-keys.json"


def run_demo(
    keys_file: Annotated[
        Path, typer.Option(help="where the demo API keys are kept")
    ] = DEFAULT_KEYS,
) -> None:
    """Seed the demo alliance; write the principals' API keys to a private file."""
    known: dict[str, str] = {}
    if keys_file.exists():
        known = json.loads(keys_file.read_text("utf-8"))

    async def run() -> dict[str, str]:
        async with session() as (graph, ledger):
            return await demo.seed(graph, ledger, actor(), known)

    keys = asyncio.run(run())
    keys_file.parent.mkdir(parents=True, exist_ok=True)
    keys_file.touch(mode=0o600, exist_ok=True)
    keys_file.write_text(json.dumps(keys, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    out.print(f"demo alliance ready: {len(demo.INSTITUTIONS)} institutions, {len(keys)} principals")
    out.print(f"API keys (keep private): {keys_file}")
