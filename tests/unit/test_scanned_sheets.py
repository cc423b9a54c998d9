"""Real OCR (RapidOCR, PP-OCRv4) on sheets rendered by the sample generator: printed, PDF and
handwriting-like with rotation, noise and a stamp. Slow-ish: ~3 s per page on two cores."""

from __future__ import annotations

import io
import random
from datetime import date
from pathlib import Path

import pytest
from faker import Faker
from PIL import Image

from ingest.errors import IngestError
from ingest.model import Subject
from ingest.ocr.engine import RapidOcr
from ingest.readers import scan
from ingest.synthetic.sheets import Truth, corrected_reading, patient, render

ENGINE = RapidOcr()


@pytest.fixture(scope="module")
def truth() -> Truth:
    fake = Faker("zh_CN")
    fake.seed_instance(21)
    return patient(fake, random.Random(21), date(2026, 10, 20))


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def values(subject: Subject) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for d in subject.data:
        out.setdefault(d.kind, []).append(str(d.value))
    return out


def identifiers_match(found: dict[str, list[str]], t: Truth) -> None:
    assert found["PersonName"] == [t.name]
    assert found["ResidentId"] == [t.resident_id]
    assert found["PhoneNumber"] == [t.phone]
    assert found["MedicalRecordNumber"] == [t.mrn]
    assert found["Address"] == [t.address]


def test_printed_sheet_is_read_completely_with_boxes(truth: Truth) -> None:
    extracted = scan.read(png(render(truth, False, random.Random(1))), "png", "sheet.png", ENGINE)
    assert extracted.method == "ocr+nlp"
    (subject,) = extracted.subjects
    found = values(subject)
    identifiers_match(found, truth)
    assert found["Sex"] == [truth.sex]
    assert found["BirthDate"] == [truth.birth_date]
    assert found["EncounterDate"] == [truth.visit]
    assert found["HbA1c"] == [truth.hba1c]
    assert found["SystolicPressure"] == [str(truth.systolic)]
    assert sorted(found["Condition"]) == sorted(d for d, _ in truth.diagnoses)
    assert sorted(found["FastingGlucose"]) == sorted(r[1] for r in truth.readings)
    assert sorted(found["PostprandialGlucose"]) == sorted(r[2] for r in truth.readings)
    # Table readings take their row's date; every datum cites page, row, box and confidence.
    times = sorted(
        str(d.time.date()) for d in subject.data if d.kind == "FastingGlucose" and d.time
    )
    assert times == [r[0] for r in truth.readings]
    for d in subject.data:
        assert d.location.startswith("page 1, row ")
        assert "box [" in d.location
        assert 0.5 < d.confidence <= 1.0


def test_pdf_pages_are_rendered_and_read(truth: Truth, tmp_path: Path) -> None:
    path = tmp_path / "sheet.pdf"
    render(truth, False, random.Random(1)).save(path, resolution=150)
    (subject,) = scan.read(path.read_bytes(), "pdf", "sheet.pdf", ENGINE).subjects
    identifiers_match(values(subject), truth)


def test_jpeg_scans_are_read(truth: Truth) -> None:
    buffer = io.BytesIO()
    render(truth, False, random.Random(1)).save(buffer, format="JPEG", quality=80)
    (subject,) = scan.read(buffer.getvalue(), "jpeg", "sheet.jpg", ENGINE).subjects
    identifiers_match(values(subject), truth)


def test_handwriting_like_scan_keeps_identifiers_exact(truth: Truth) -> None:
    image = render(truth, True, random.Random(2))
    (subject,) = scan.read(png(image), "png", "scan.png", ENGINE).subjects
    found = values(subject)
    identifiers_match(found, truth)
    readings = found.get("FastingGlucose", []) + found.get("PostprandialGlucose", [])
    expected = [r[1] for r in truth.readings] + [r[2] for r in truth.readings]
    assert len(set(readings) & set(expected)) >= len(set(expected)) - 1  # the stamp may hide one


def test_a_struck_through_value_is_read_with_low_confidence() -> None:
    image = corrected_reading()
    (subject,) = scan.read(png(image), "png", "corrected.png", ENGINE).subjects
    (glucose,) = subject.data
    assert glucose.kind == "FastingGlucose"
    assert glucose.confidence < 0.8  # R-LOW-CONFIDENCE flags it for review


def test_unreadable_inputs_are_named() -> None:
    with pytest.raises(IngestError, match="not a readable PNG"):
        scan.read(b"\x89PNG broken", "png", "bad.png", ENGINE)
    with pytest.raises(IngestError, match="not a readable PDF"):
        scan.read(b"%PDF-1.7 nothing", "pdf", "bad.pdf", ENGINE)
    blank = png(Image.new("RGB", (400, 300), "white"))
    with pytest.raises(IngestError, match="no text"):
        scan.read(blank, "png", "blank.png", ENGINE)
