"""`shield ingest check FILE`: read, grade and validate a file without storing anything."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ingest.errors import IngestError
from ingest.grading import Finding, Grader
from ingest.pipeline import FORMATS, Checked, Pipeline
from ingest.readers.meter import load_mappings
from kgservice.cli.context import fail, out, print_json
from kgservice.cli.exit_codes import Exit

app = typer.Typer(help="Check files against the grading rules and record constraints.")
SUFFIXES = {
    ".json": "json",
    ".csv": "csv",
    ".xlsx": "xlsx",
    ".png": "png",
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
    ".pdf": "pdf",
    ".txt": "text",
}


def _format_of(path: Path, given: str | None) -> str:
    if given is not None:
        if given not in FORMATS:
            fail(f"--type must be one of {', '.join(FORMATS)}", Exit.usage)
        return given
    if path.name.endswith((".fhir.json", ".fhir")):
        return "fhir"
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        fail(f"cannot tell the format of {path.name}; pass --type", Exit.usage)
    if fmt == "json" and b'"resourceType"' in path.read_bytes()[:4096]:
        return "fhir"
    return fmt


def _violation(x: Finding) -> dict[str, str]:
    return {
        "rule": x.rule.id,
        "severity": x.rule.severity,
        "message_zh": x.rule.message_zh,
        "message_en": x.rule.message_en,
        "detail": x.detail,
    }


def report(checked: Checked) -> list[dict[str, Any]]:
    """One object per field: where it was read, its grade, and the rules it breaks."""
    rows: list[dict[str, Any]] = []
    for f in checked.fields:
        g = f.grade
        violations = [_violation(x) for x in f.findings]
        rows.append(
            {
                "field": f.ref.datum.location,
                "kind": f.ref.datum.kind,
                "category": g.category if g else None,
                "level": g.level if g else None,
                "tier": g.tier if g else None,
                "rule": g.rule if g else None,
                "violations": violations,
            }
        )
    for x in checked.record_findings:
        rows.append(
            {
                "field": str(x.focus),
                "kind": "Record",
                "category": None,
                "level": None,
                "tier": None,
                "rule": None,
                "violations": [_violation(x)],
            }
        )
    return rows


@app.command()
def check(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    fmt: Annotated[str, typer.Option("--format", help="table or json")] = "table",
    kind: Annotated[str | None, typer.Option("--type", help="json, fhir, csv or xlsx")] = None,
    institution: Annotated[str, typer.Option(help="institution the file would be for")] = "check",
) -> None:
    """Print every field with its category, level, tier and violations. Exit 1 on violations."""
    pipeline = Pipeline(Grader.from_directory(), load_mappings())
    try:
        checked = pipeline.check(file.read_bytes(), _format_of(file, kind), file.name, institution)
    except IngestError as e:
        fail(str(e), Exit.failure)
    rows = report(checked)
    if fmt == "json":
        print_json(rows)
    else:
        table = Table("field", "kind", "category", "level", "tier", "violations")
        for r in rows:
            v = "; ".join(f"{x['rule']}: {x['message_en']}" for x in r["violations"])
            table.add_row(
                r["field"],
                r["kind"],
                str(r["category"] or "-"),
                str(r["level"] or "-"),
                str(r["tier"] or "-"),
                v or "",
            )
        out.print(table)
        out.print(
            f"{checked.extracted.reader}: {len(checked.extracted.subjects)} records, "
            f"{len(rows)} fields"
        )
    if any(x["severity"] == "Violation" for r in rows for x in r["violations"]):
        raise typer.Exit(int(Exit.failure))
