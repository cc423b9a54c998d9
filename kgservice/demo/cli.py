"""`shield demo`: seed the diabetes-alliance demo (institutions, one principal per role)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Annotated

import typer

from ingest.grading import Grader
from ingest.pipeline import Pipeline
from ingest.readers.meter import load_mappings
from kgservice import demo
from kgservice.cli.context import actor, fail, out, session, settings
from kgservice.cli.exit_codes import Exit
from kgservice.decisions.engine import DecisionEngine
from kgservice.demo import scenario as scenario_mod
from kgservice.demo.report import write as write_report
from kgservice.localneo4j import cli as neo4j_cli
from kgservice.records.protection import ProtectionKeyError, load_protector
from kgservice.settings import data_dir


def run_demo(
    keys_file: Annotated[
        Path | None,
        typer.Option(help="where the demo API keys are kept [default: var/demo-keys.json]"),
    ] = None,
    scenario: Annotated[
        bool, typer.Option(help="then run the scenario: red line, training, settlement, ...")
    ] = True,
    rounds: Annotated[int, typer.Option(min=1, max=10, help="federated rounds")] = 3,
    report: Annotated[
        Path | None,
        typer.Option(help="where the scenario report goes [default: var/demo-report]"),
    ] = None,
) -> None:
    """Seed the demo alliance (keys to a private file), then run the seed's §4.5 scenario end to
    end and write a Markdown report with charts. Default paths are under HS_DATA_DIR (default:
    the working directory)."""
    keys_file = keys_file or data_dir() / "var" / "demo-keys.json"
    report = report or data_dir() / "var" / "demo-report"
    known: dict[str, str] = {}
    if keys_file.exists():
        known = json.loads(keys_file.read_text("utf-8"))

    cfg = settings()
    if cfg.uses_local_neo4j:
        neo4j_cli.start()  # "already running" when `make run` started it
    try:
        protector = load_protector(cfg)
    except ProtectionKeyError as e:
        fail(str(e), Exit.environment)
    pipeline = Pipeline(Grader.from_directory(), load_mappings())
    started = time.monotonic()

    def step(text: str) -> None:
        out.print(f"[dim]{time.monotonic() - started:6.1f} s[/dim]  {text}")

    async def run() -> tuple[dict[str, str], int, scenario_mod.Outcome | None]:
        async with session() as (graph, ledger):
            step("institutions and one principal per role")
            keys = await demo.seed(graph, ledger, actor(), known)
            _write_keys(keys_file, keys)
            step("ingest: FHIR, JSON, meter CSV and XLSX, a handwritten sheet (OCR), a note (NLP)")
            receipts = await demo.seed_records(graph, ledger, protector, pipeline, keys)
            step("catalogue and the institutions' use rights for federated training")
            await demo.seed_rewards(graph, ledger, keys)
            outcome = None
            if scenario:
                with out.status("running the scenario ...", spinner="dots"):
                    outcome = await scenario_mod.run(
                        graph,
                        ledger,
                        DecisionEngine(graph, ledger, cfg.decisions),
                        cfg.training,
                        protector,
                        keys,
                        step,
                        rounds,
                    )
        return keys, sum(len(r.records) for r in receipts), outcome

    keys, n_records, outcome = asyncio.run(run())
    out.print(
        f"demo alliance ready: {len(demo.INSTITUTIONS)} institutions, {len(keys)} principals, "
        f"{n_records} patient records"
    )
    out.print(f"API keys (keep private): {keys_file}")
    if outcome is not None:
        path = write_report(outcome, report)
        out.print(f"scenario report: {path}")
        if outcome.ledger is None or not outcome.ledger.ok:
            fail("the ledger did not verify: see the report", Exit.failure)


def _write_keys(path: Path, keys: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.write_text(json.dumps(keys, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
