"""`shield demo`: seed the diabetes-alliance demo (institutions, one principal per role)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer

from ingest.grading import Grader
from ingest.pipeline import Pipeline
from ingest.readers.meter import load_mappings
from kgservice import demo
from kgservice.cli.context import actor, fail, out, session, settings
from kgservice.cli.exit_codes import Exit
from kgservice.records.protection import ProtectionKeyError, load_protector
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

    cfg = settings()
    try:
        protector = load_protector(cfg)
    except ProtectionKeyError as e:
        fail(str(e), Exit.environment)
    pipeline = Pipeline(Grader.from_directory(), load_mappings())

    async def run() -> tuple[dict[str, str], int]:
        async with session() as (graph, ledger):
            keys = await demo.seed(graph, ledger, actor(), known)
            receipts = await demo.seed_records(graph, ledger, protector, pipeline, keys)
            await demo.seed_rewards(graph, ledger, keys)
        return keys, sum(len(r.records) for r in receipts)

    keys, n_records = asyncio.run(run())
    keys_file.parent.mkdir(parents=True, exist_ok=True)
    keys_file.touch(mode=0o600, exist_ok=True)
    keys_file.write_text(json.dumps(keys, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    out.print(
        f"demo alliance ready: {len(demo.INSTITUTIONS)} institutions, {len(keys)} principals, "
        f"{n_records} patient records"
    )
    out.print(f"API keys (keep private): {keys_file}")
