"""`shield rules test`: run every rule case (grading, record constraints, red lines) on both
SHACL engines, and say which rule misbehaves."""

from __future__ import annotations

from typing import Annotated

import typer

from ingest.grading import Engine, Grader
from ingest.rulecases import load_cases, run_case
from kgservice.cli.context import out, print_json
from kgservice.cli.exit_codes import Exit
from kgservice.decisions.cases import fired, load_decision_cases
from kgservice.decisions.rules import RedLines

app = typer.Typer(help="Test the rules in shapes/ against their cases.")


@app.command("test")
def run_rule_tests(
    fmt: Annotated[str, typer.Option("--format", help="text or json")] = "text",
) -> None:
    """Run shapes/cases.toml and shapes/decision_cases.toml; exit 1 if any case fails or the
    fast engines disagree with pySHACL."""
    failures: list[str] = []
    graders = {e: Grader.from_directory(engine=e) for e in Engine}
    cases = load_cases()
    for case in cases:
        outcomes = {e: run_case(case, g) for e, g in graders.items()}
        for engine, outcome in outcomes.items():
            if outcome.fired != case.fires or (case.grade and outcome.grade != case.grade):
                failures.append(
                    f"{case.name} on {engine}: fired={outcome.fired} grade={outcome.grade}"
                )
        if any(o.findings != outcomes[Engine.pyshacl].findings for o in outcomes.values()):
            failures.append(f"{case.name}: engines disagree")
    # Decisions check constraints on shifty (the compiled checker is for ingest's grading).
    redlines = {e: RedLines(engine=e) for e in (Engine.pyshacl, Engine.shifty)}
    decision_cases = load_decision_cases()
    for dc in decision_cases:
        results = {e: fired(dc, rl) for e, rl in redlines.items()}
        if results[Engine.pyshacl] != results[Engine.shifty]:
            failures.append(f"{dc.name}: engines disagree")
        if any(r == dc.rule for r, _ in results[Engine.shifty]) != dc.fires:
            failures.append(f"{dc.name}: expected fires={dc.fires}, got {results[Engine.shifty]}")
    total = len(cases) + len(decision_cases)
    if fmt == "json":
        print_json({"cases": total, "failures": failures})
    else:
        out.print(f"{total - len(failures)} passed, {len(failures)} failed")
        for failure in failures:
            out.print(f"  - {failure}")
    if failures:
        raise typer.Exit(int(Exit.failure))
