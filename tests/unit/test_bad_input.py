"""Bad input is refused with an error naming its place, never a crash.

Broken variants of the JSON and FHIR samples go through the whole check (read, normalise, RDF,
grade, validate). Each must either check (its findings say what is wrong) or be refused with an
``IngestError``, which the service answers with a 400 naming the place; any other exception
would be a 500. Three such crashes were found this way in the FHIR reader (a partial birth
date, a null in a list of names, an entry of no known resource type).
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from ingest.errors import IngestError
from ingest.grading import Grader
from ingest.pipeline import Pipeline
from ingest.readers.meter import load_mappings
from kgservice.settings import REPO_ROOT
from tests.unit.test_fhirtwin import RICH
from tests.unit.variants import Json, mutants

SAMPLES = REPO_ROOT / "samples"
# Every fourth variant: ~3,000 in ~8 s; the rest add little but time.
EVERY = 4


def _documents() -> dict[str, tuple[str, Json]]:
    records = json.loads((SAMPLES / "records.json").read_text("utf-8"))
    bundle = json.loads((SAMPLES / "bundle.fhir.json").read_text("utf-8"))
    return {
        "json": ("json", {**records, "records": records["records"][:2]}),
        "fhir": ("fhir", {**bundle, "entry": bundle["entry"][:7]}),
        "fhir-rich": ("fhir", RICH),
    }


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline(Grader.from_directory(), load_mappings())


@pytest.mark.parametrize("name", ["json", "fhir", "fhir-rich"])
def test_broken_variants_are_checked_or_refused_by_name(pipeline: Pipeline, name: str) -> None:
    fmt, document = _documents()[name]
    outcomes: Counter[str] = Counter()
    for k, variant in enumerate(mutants(document)):
        if k % EVERY:
            continue
        data = json.dumps(variant, ensure_ascii=False).encode()
        refused: IngestError | None = None
        try:
            checked = pipeline.check(data, fmt, "f.json", "clinic-b")
        except IngestError as e:
            refused = e
        if refused is not None:
            assert refused.location.startswith("f.json"), refused
            outcomes["refused"] += 1
            continue
        findings = [x for f in checked.fields for x in f.findings] + checked.record_findings
        outcomes["with findings" if findings else "clean"] += 1
    # The variants reach all three outcomes, so the check above is not vacuous.
    assert set(outcomes) == {"refused", "with findings", "clean"}, outcomes


def _nested_extensions(depth: int) -> bytes:
    patient = '{"resourceType": "Patient", "extension": ' + '[{"url": "x", "extension": ' * depth
    patient += "[]" + "}]" * depth + "}"
    bundle = '{"resourceType": "Bundle", "type": "collection", "entry": [{"resource": %s}]}'
    return (bundle % patient).encode()


@pytest.mark.parametrize(
    ("fmt", "data", "said"),
    [
        ("json", b"[" * 100_000 + b"]" * 100_000, "f.json: the JSON is nested too deeply"),
        ("fhir", b"[" * 100_000 + b"]" * 100_000, "f.json: the JSON is nested too deeply"),
        # Decodable, but fhir.resources' validators recurse in Python once per level.
        ("fhir", _nested_extensions(400), "f.json Bundle: the Bundle is nested too deeply"),
    ],
)
def test_deep_nesting_is_refused_by_name(
    pipeline: Pipeline, fmt: str, data: bytes, said: str
) -> None:
    with pytest.raises(IngestError) as e:
        pipeline.check(data, fmt, "f.json", "clinic-b")
    assert str(e.value) == said
