"""The Field rows handed to Neo4j: an absent value is left out, never sent as null."""

from __future__ import annotations

import json
import random

from ingest.grading import Grader
from ingest.pipeline import Pipeline
from ingest.readers.meter import load_mappings
from ingest.synthetic.samples import fhir_bundle
from kgservice.records import storage
from kgservice.records.protection import Protector


def _rows() -> list[dict[str, object]]:
    data = json.dumps(fhir_bundle(random.Random(5), 30)).encode()
    checked = Pipeline(Grader.from_directory(), load_mappings()).check(
        data, "fhir", "b.json", "clinic-b"
    )
    prepared = storage.prepare(
        Protector(b"\x01" * 32, b"\x02" * 32), checked, "clinic-b", "2026-11-30T00:00:00Z"
    )
    assert not prepared.violations
    return [f for r in prepared.records for f in r["fields"]]


def test_no_field_row_holds_a_null() -> None:
    # Neo4j reads a null in ``SET x = row`` as "remove this property" and looks it up.
    fields = _rows()
    assert len(fields) > 300
    assert [f for f in fields if None in f.values()] == []


def test_optional_values_are_kept_when_present() -> None:
    fields = _rows()
    kinds = {f["kind"] for f in fields}
    assert {"FastingGlucose", "Condition", "ResidentId"} <= kinds
    for f in fields:
        assert ("value" in f) != ("value_enc" in f), f  # exactly one of them
        if f["kind"] == "FastingGlucose":
            assert f["unit"] == "mmol/L"
            assert "time" in f
        if f["kind"] == "Condition":
            assert ("code" in f) != ("code_enc" in f), f
        if f["kind"] == "ResidentId":
            assert f["tier"] == storage.CORE
            assert "pseudonym" in f
            assert "code" not in f
