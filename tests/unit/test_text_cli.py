"""`shield ocr` and `shield identifiers` as stewards run them, on the shipped samples."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from kgservice.cli.main import app
from tests import REPO_ROOT

SHEETS = REPO_ROOT / "samples" / "sheets"
TRUTH = json.loads((SHEETS / "sheet-01-truth.json").read_text("utf-8"))


def test_identifiers_of_a_note_as_json_offsets() -> None:
    result = CliRunner().invoke(app, ["identifiers", str(SHEETS / "sheet-01-note.txt")])
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    text = (SHEETS / "sheet-01-note.txt").read_text("utf-8")
    assert all(text[f["start"] : f["end"]] == f["text"] for f in found)
    expected = {(s["start"], s["end"], s["type"]) for s in TRUTH["note_identifiers"]}
    assert {(f["start"], f["end"], f["type"]) for f in found} == expected


def test_ocr_lines_with_confidence_and_boxes() -> None:
    path = SHEETS / "sheet-01-printed.png"
    result = CliRunner().invoke(app, ["ocr", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    lines = json.loads(result.output)
    assert any(TRUTH["sheet"]["resident_id"] in line["text"] for line in lines)
    assert all(len(line["box"]) == 4 and 0 < line["confidence"] <= 1 for line in lines)
    table = CliRunner().invoke(app, ["identifiers", str(path), "--format", "table"])
    assert table.exit_code == 0
    assert TRUTH["sheet"]["phone"] in table.output


def test_unreadable_files_are_named() -> None:
    result = CliRunner().invoke(app, ["ocr", str(SHEETS / "sheet-01-note.txt")])
    assert result.exit_code == 2
    assert "not an image or PDF" in result.output
