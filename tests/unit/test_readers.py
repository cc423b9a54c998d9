"""Every reader on its sample file and on broken files: errors name the place."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from ingest.errors import IngestError
from ingest.grading import Engine, Grader
from ingest.normalise import normalise
from ingest.pipeline import Pipeline, detect_format
from ingest.rdf import build
from ingest.readers import fhir, json_v1, meter
from ingest.synthetic.samples import json_document, write_all
from tests import REPO_ROOT

SAMPLES = REPO_ROOT / "samples"
MAPPINGS = meter.load_mappings()
FILES = {
    "records.json": ("json", "json/v1", 4),
    "bundle.fhir.json": ("fhir", "fhir-r4", 2),
    "sinocare.csv": ("csv", "meter/sinocare", 3),
    "accuchek.csv": ("csv", "meter/accuchek", 2),
    "yuwell.xlsx": ("xlsx", "meter/yuwell", 3),
}


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline(Grader.from_directory(), MAPPINGS)


@pytest.mark.parametrize("name", FILES)
def test_samples_read_grade_and_validate_cleanly(name: str, pipeline: Pipeline) -> None:
    fmt, reader, subjects = FILES[name]
    checked = pipeline.check((SAMPLES / name).read_bytes(), fmt, name, "clinic-b")
    assert checked.extracted.reader == reader
    assert len(checked.extracted.subjects) == subjects
    assert checked.violations == []
    assert all(f.grade is not None for f in checked.fields)
    glucose = [f for f in checked.fields if f.ref.datum.kind.endswith("Glucose")]
    assert glucose
    assert all(f.ref.datum.unit == "mmol/L" for f in glucose)


def test_committed_samples_are_what_the_generator_makes(tmp_path: Path) -> None:
    for path in write_all(tmp_path):
        if path.suffix != ".xlsx":  # XLSX embeds its creation time
            assert path.read_bytes() == (SAMPLES / path.name).read_bytes(), path.name


def test_meter_brands_convert_units(pipeline: Pipeline) -> None:
    accu = pipeline.check((SAMPLES / "accuchek.csv").read_bytes(), "csv", "a", "x")
    first = next(f for f in accu.fields if f.ref.datum.kind == "FastingGlucose")
    assert "BG (mg/dL)" in first.ref.datum.location
    assert first.ref.datum.unit == "mmol/L"
    yuwell = pipeline.check((SAMPLES / "yuwell.xlsx").read_bytes(), "xlsx", "y", "x")
    assert {f.ref.datum.unit for f in yuwell.fields if f.ref.datum.unit} == {"mmol/L"}


def _csv(text: str, encoding: str = "gb18030") -> bytes:
    return text.encode(encoding)


@pytest.mark.parametrize(
    ("data", "fmt", "message"),
    [
        (_csv("用户编号,姓名,测量时间\nU1,张三,2026/11/01 08:00\n"), "csv", "missing columns"),
        (
            _csv("用户编号,测量时间,测量时段,血糖值(mmol/L)\nU1,01.11.2026,空腹,7.1\n"),
            "csv",
            "row 2, column '测量时间'",
        ),
        (
            _csv("用户编号,测量时间,测量时段,血糖值(mmol/L)\nU1,2026/11/01 08:00,睡前,7.1\n"),
            "csv",
            "unknown period '睡前'",
        ),
        (_csv("用户编号,测量时间,测量时段,血糖值(mmol/L)\n"), "csv", "no readings"),
        (b"PK\x03\x04 this is not a workbook", "xlsx", "not a readable XLSX"),
        (b"", "csv", "empty or undecodable"),
    ],
)
def test_broken_tables(data: bytes, fmt: str, message: str) -> None:
    with pytest.raises(IngestError, match=message):
        meter.read(data, "upload", fmt, MAPPINGS)


def test_csv_with_a_bad_value_names_row_and_column(pipeline: Pipeline) -> None:
    data = _csv("用户编号,测量时间,测量时段,血糖值(mmol/L)\nU1,2026/11/01 08:00,空腹,abc\n")
    with pytest.raises(IngestError, match="'abc' is not a number") as info:
        pipeline.check(data, "csv", "s.csv", "x")
    assert info.value.location == "s.csv row 2, column '血糖值(mmol/L)'"


def test_xlsx_with_a_bad_unit_names_row_and_column(pipeline: Pipeline) -> None:
    book = Workbook()
    sheet = book.worksheets[0]
    sheet.append(["患者ID", "患者姓名", "检测日期", "检测类型", "检测结果", "单位"])
    sheet.append(["U9", "李四", "2026-11-01 08:00:00", "空腹血糖", 7.1, "g/L"])
    buf = io.BytesIO()
    book.save(buf)
    with pytest.raises(IngestError, match="unit 'g/L' is not known") as info:
        pipeline.check(buf.getvalue(), "xlsx", "y.xlsx", "x")
    assert info.value.location == "y.xlsx row 2, column '检测结果'"


def _doc() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((SAMPLES / "records.json").read_text("utf-8"))
    return doc


def test_json_unknown_key_and_wrong_type_are_named() -> None:
    doc = _doc()
    doc["records"][1]["patient"]["nmae"] = "typo"
    with pytest.raises(IngestError, match="Extra inputs") as info:
        json_v1.read(json.dumps(doc).encode(), "r.json")
    assert info.value.location == "r.json records[1].patient.nmae"
    doc = _doc()
    doc["records"][0]["observations"][0]["type"] = "glucose"
    with pytest.raises(IngestError) as info:
        json_v1.read(json.dumps(doc).encode(), "r.json")
    assert "records[0].observations[0].type" in info.value.location
    with pytest.raises(IngestError, match="not UTF-8 JSON"):
        json_v1.read(b"{not json", "r.json")


def test_invalid_fhir_is_named() -> None:
    bundle = json.loads((SAMPLES / "bundle.fhir.json").read_text("utf-8"))
    bundle["entry"][1]["resource"]["status"] = 42
    with pytest.raises(IngestError, match=r"Bundle\.entry"):
        fhir.read(json.dumps(bundle).encode(), "b.json")
    with pytest.raises(IngestError, match="a FHIR Bundle is expected"):
        fhir.read(b'{"resourceType": "Patient"}', "b.json")
    bundle = json.loads((SAMPLES / "bundle.fhir.json").read_text("utf-8"))
    bundle["entry"][1]["resource"]["subject"]["reference"] = "Patient/ghost"
    with pytest.raises(IngestError, match="'Patient/ghost', not in the Bundle"):
        fhir.read(json.dumps(bundle).encode(), "b.json")


def test_fhir_reads_components_codes_and_phones(pipeline: Pipeline) -> None:
    checked = pipeline.check((SAMPLES / "bundle.fhir.json").read_bytes(), "fhir", "b", "x")
    kinds = [f.ref.datum.kind for f in checked.fields]
    for kind in (
        "SystolicPressure",
        "DiastolicPressure",
        "EGFR",
        "Condition",
        "Prescription",
        "ConsentStatement",
        "MedicalRecordNumber",
        "ResidentId",
    ):
        assert kind in kinds
    phones = [f.ref.datum.value for f in checked.fields if f.ref.datum.kind == "PhoneNumber"]
    assert all(str(p).isdigit() and len(str(p)) == 11 for p in phones)


@pytest.mark.parametrize(
    ("content_type", "data", "fmt"),
    [
        ("application/json", b'{"records": []}', "json"),
        ("application/json; charset=utf-8", b'{"resourceType": "Bundle"}', "fhir"),
        ("application/fhir+json", b"{}", "fhir"),
        ("text/csv", b"a,b", "csv"),
    ],
)
def test_format_detection(content_type: str, data: bytes, fmt: str) -> None:
    assert detect_format(content_type, data) == fmt


def test_unknown_content_type() -> None:
    with pytest.raises(IngestError, match="is not accepted"):
        detect_format("image/gif", b"GIF89a")


@pytest.mark.parametrize("name", FILES)
def test_engines_agree_on_samples_and_on_broken_data(name: str) -> None:
    """The fast engine must give pySHACL's verdicts: the regression corpus."""
    fmt = FILES[name][0]
    data = (SAMPLES / name).read_bytes()
    if name == "records.json":  # add violations so the comparison covers them too
        doc = json.loads(data)
        doc["records"][0]["observations"][0]["value"] = "99"
        doc["records"][1]["patient"]["resident_id"] = "110105194912310021"
        doc["records"][2]["patient"]["phone"] = "12345"
        data = json.dumps(doc).encode()
    results = {}
    for engine in Engine:
        p = Pipeline(Grader.from_directory(engine=engine), MAPPINGS)
        checked = p.check(data, fmt, name, "clinic-b")
        results[engine] = (
            sorted((loc, f.rule.id) for loc, f in checked.violations),
            [(f.ref.field_id, f.grade) for f in checked.fields],
        )
    assert results[Engine.shifty] == results[Engine.pyshacl]
    assert results[Engine.compiled] == results[Engine.pyshacl]
    if name == "records.json":
        assert len(results[Engine.shifty][0]) == 3


def test_validating_a_file_in_parallel_parts_equals_validating_it_whole() -> None:
    # shifty validates a file in parts (the compiled checker takes it whole)
    pipeline = Pipeline(Grader.from_directory(engine=Engine.shifty), MAPPINGS)
    doc = json_document(random.Random(3), 250)  # three parts of at most CHUNK records
    doc["records"][7]["observations"][0]["value"] = "99"
    doc["records"][180]["patient"]["phone"] = "12345"
    data = json.dumps(doc).encode()
    checked = pipeline.check(data, "json", "big.json", "clinic-b")
    extracted = json_v1.read(data, "big.json")
    for subject in extracted.subjects:
        subject.data = [normalise(d) for d in subject.data]
    nt, refs, _ = build(extracted, "clinic-b", checked.digest)
    whole = pipeline.grader.grade(nt)
    assert [f.grade for f in checked.fields] == [whole.grades.get(r.iri) for r in refs]
    parts = sorted((x.focus, x.rule.id) for f in checked.fields for x in f.findings)
    assert parts == sorted((x.focus, x.rule.id) for x in whole.findings)
    assert sorted(loc for loc, _ in checked.violations) == [
        "big.json records[180].patient.phone",
        "big.json records[7].observations[0]",
    ]
