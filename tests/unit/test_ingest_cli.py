"""`shield ingest check` on sample and broken files (no database needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kgservice.cli.main import app
from tests import REPO_ROOT

SAMPLES = REPO_ROOT / "samples"
runner = CliRunner()


@pytest.mark.parametrize("name", ["records.json", "bundle.fhir.json", "yuwell.xlsx"])
def test_json_report_lists_every_field_with_its_grade(name: str) -> None:
    result = runner.invoke(app, ["ingest", "check", str(SAMPLES / name), "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows
    for row in rows:
        assert {"field", "category", "level", "tier", "violations"} <= set(row)
        assert isinstance(row["level"], int)
        assert 1 <= row["level"] <= 5
        assert row["violations"] == []


def test_violations_are_listed_and_exit_1(tmp_path: Path) -> None:
    doc = json.loads((SAMPLES / "records.json").read_text("utf-8"))
    doc["records"][0]["observations"][1]["value"] = "45"  # HbA1c 45 %
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(app, ["ingest", "check", str(bad), "--format", "json"])
    assert result.exit_code == 1
    rows = json.loads(result.stdout)
    flagged = [r for r in rows if r["violations"]]
    assert [(r["field"], r["violations"][0]["rule"]) for r in flagged] == [
        ("bad.json records[0].observations[1]", "R-HBA1C")
    ]


def test_table_output_and_unreadable_files(tmp_path: Path) -> None:
    table = runner.invoke(app, ["ingest", "check", str(SAMPLES / "sinocare.csv")])
    assert table.exit_code == 0
    assert "meter/sinocare: 3 records" in table.stdout
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really")
    result = runner.invoke(app, ["ingest", "check", str(broken)])
    assert result.exit_code == 1
    assert "not a readable XLSX" in result.output


def test_shield_rules_test_runs_every_case_on_both_engines() -> None:
    result = runner.invoke(app, ["rules", "test", "--format", "json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["failures"] == []
    assert body["cases"] >= 80
