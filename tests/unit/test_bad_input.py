"""Bad input is refused with an error naming its place, never a crash.

Broken variants of the JSON, FHIR and meter samples go through the whole check (read,
normalise, RDF, grade, validate). Each must either check (its findings say what is wrong) or
be refused with an ``IngestError``, which the service answers with a 400 naming the place; any
other exception would be a 500. Crashes found this way: in the FHIR reader a partial birth
date, a null in a list of names and an entry of no known resource type; in normalising, a
reading of "1e400". Found by probing, and kept below: JSON nested too deeply for the decoder or
for fhir.resources, and notes that held the checking process for 6-30 s.
"""

from __future__ import annotations

import io
import json
import time
from collections import Counter
from collections.abc import Iterator

import pytest
from openpyxl import Workbook, load_workbook

from ingest.errors import IngestError
from ingest.grading import Grader
from ingest.pipeline import Pipeline
from ingest.readers.meter import load_mappings
from tests import REPO_ROOT
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


# Cell values put in place of each cell of a meter export's first rows.
CELLS = (
    "",
    " ",
    "0",
    "-1",
    "1e400",
    "9" * 400,
    "nan",
    "inf",
    "１２３",
    "7,4",
    "mmol",
    "😀",
    "2026/13/45 25:61",
    "2099/01/01 08:00",
    "2026/10/20",
    "x;y",
    '"',
    "空腹",
    "早餐后2小时",
)


def _csv_variants(name: str, encoding: str, sep: str) -> Iterator[bytes]:
    rows = [r.split(sep) for r in (SAMPLES / name).read_bytes().decode(encoding).splitlines()[:4]]
    for i, row in enumerate(rows):
        variants = [row[:-1], [*row, "extra"]]
        variants += [[*row[:j], cell, *row[j + 1 :]] for j in range(len(row)) for cell in CELLS]
        for changed in variants:
            lines = [sep.join(changed if k == i else r) for k, r in enumerate(rows)]
            yield "\n".join(lines).encode(encoding, errors="replace")


def _xlsx_variants() -> Iterator[bytes]:
    sample = load_workbook(SAMPLES / "yuwell.xlsx").active
    assert sample is not None
    rows = [list(r) for r in sample.iter_rows(values_only=True)][:3]
    for i, row in enumerate(rows):
        for j in range(len(row)):
            for cell in (*CELLS[:8], None, -5, 1.5, 10**30):
                book = Workbook()
                sheet = book.active
                assert sheet is not None
                for k, r in enumerate(rows):
                    sheet.append([*r[:j], cell, *r[j + 1 :]] if k == i else r)
                out = io.BytesIO()
                book.save(out)
                yield out.getvalue()


@pytest.mark.parametrize("name", ["sinocare.csv", "accuchek.csv", "yuwell.xlsx"])
def test_broken_meter_exports_are_checked_or_refused_by_name(pipeline: Pipeline, name: str) -> None:
    if name.endswith(".xlsx"):
        fmt, variants = "xlsx", _xlsx_variants()
    else:
        encoding, sep = ("gb18030", ",") if name == "sinocare.csv" else ("utf-8-sig", ";")
        fmt, variants = "csv", _csv_variants(name, encoding, sep)
    outcomes: Counter[str] = Counter()
    for data in variants:
        refused: IngestError | None = None
        try:
            pipeline.check(data, fmt, "m.csv", "clinic-b")
        except IngestError as e:
            refused = e
        outcomes["refused" if refused is not None else "checked"] += 1
        if refused is not None:
            assert refused.location.startswith("m.csv"), refused
    assert set(outcomes) == {"refused", "checked"}, outcomes


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("血" * 99_000, "99000 Chinese characters with no break"),
        ("随访记录：" + "路" * 5_000 + "。", "5000 Chinese characters with no break"),
        ("血压" + " " * 50_000 + "1", "nothing in the note could be read"),
        ("性别" + " " * 50_000 + "未知", "nothing in the note could be read"),
    ],
)
def test_pathological_notes_are_refused_quickly(pipeline: Pipeline, text: str, said: str) -> None:
    """Each would take 20-30 s of the checking process, holding up every other submission:
    jieba's HMM is quadratic in a long run of Han characters, and a blood-pressure pattern could
    backtrack through every split of a long run of spaces."""
    start = time.process_time()
    with pytest.raises(IngestError, match=said):
        pipeline.check(text.encode(), "text", "n.txt", "clinic-b")
    assert time.process_time() - start < 5.0  # ~0.8 s when refused up front


def test_a_note_of_ordinary_length_runs_is_read(pipeline: Pipeline) -> None:
    run = "糖尿病随访" * 200  # 1,000 Han characters in a row: the most that is read
    text = f"患者张三，{run}，空腹血糖 7.2 mmol/L，血压：130/80 mmHg。"
    checked = pipeline.check(text.encode(), "text", "n.txt", "clinic-b")
    kinds = {f.ref.datum.kind for f in checked.fields}
    assert {"FastingGlucose", "SystolicPressure", "DiastolicPressure"} <= kinds
