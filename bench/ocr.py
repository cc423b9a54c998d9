"""OCR + extraction benchmark on generated follow-up sheets: how many ground-truth fields come out
exactly, how many characters come out Traditional, and seconds per page, per engine and style.

`python -m bench.ocr [--sheets N]`. Engines: rapidocr-onnxruntime 1.4.4 (PP-OCRv4, the default)
and, if installed (`pip install rapidocr==3.10.0`), rapidocr 3.x (PP-OCRv6 small).
"""

from __future__ import annotations

import argparse
import io
import logging
import random
import time
from datetime import date, timedelta

from faker import Faker
from PIL import Image

from ingest.ocr.engine import OcrEngine, RapidOcr, RapidOcrV3
from ingest.readers import scan
from ingest.synthetic.sheets import Truth, patient, render

# Characters whose Simplified form differs, as OCR engines trained on both scripts emit them.
TRADITIONAL = set("別證話區診斷壓體藥隨訪醫號歲後時間記錄單層東華劑鍵濟")


def expected(t: Truth) -> dict[str, list[str]]:
    return {
        "PersonName": [t.name],
        "Sex": [t.sex],
        "BirthDate": [t.birth_date],
        "ResidentId": [t.resident_id],
        "PhoneNumber": [t.phone],
        "Address": [t.address],
        "MedicalRecordNumber": [t.mrn],
        "EncounterDate": [t.visit],
        "HbA1c": [t.hba1c],
        "SystolicPressure": [str(t.systolic)],
        "DiastolicPressure": [str(t.diastolic)],
        "BodyWeight": [t.weight],
        "Condition": sorted(d for d, _ in t.diagnoses),
        "FastingGlucose": sorted(r[1] for r in t.readings),
        "PostprandialGlucose": sorted(r[2] for r in t.readings),
    }


def score(data: bytes, media: str, t: Truth, engine: OcrEngine) -> tuple[int, int, int, float]:
    start = time.perf_counter()
    try:
        subjects = scan.read(data, media, "bench", engine).subjects
    except Exception:  # a failed page scores zero; the bench goes on
        subjects = []
    seconds = time.perf_counter() - start
    got: dict[str, list[str]] = {}
    for d in subjects[0].data if subjects else []:
        got.setdefault(d.kind, []).append(str(d.value))
    right = total = 0
    for kind, values in expected(t).items():
        total += len(values)
        found = list(got.get(kind, []))
        for v in values:
            if v in found:
                found.remove(v)
                right += 1
    traditional = sum(c in TRADITIONAL for vs in got.values() for v in vs for c in v)
    return right, total, traditional, seconds


def encode(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    if fmt == "PDF":
        image.save(buffer, format=fmt, resolution=150)
    else:
        image.save(buffer, format=fmt)
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sheets", type=int, default=5)
    args = parser.parse_args()
    logging.getLogger("RapidOCR").setLevel(logging.WARNING)
    engines: list[OcrEngine] = [RapidOcr()]
    try:
        import rapidocr  # noqa: F401 - optional

        engines.append(RapidOcrV3())
    except ImportError:
        print("rapidocr 3.x not installed: measuring the default engine only")
    fake = Faker("zh_CN")
    fake.seed_instance(3)
    rng = random.Random(3)  # noqa: S311 - synthetic sheets
    visits = [date(2026, 10, 1) + timedelta(days=rng.randrange(0, 40)) for _ in range(args.sheets)]
    sheets = [patient(fake, rng, visit) for visit in visits]
    for engine in engines:
        for style in ("printed", "pdf", "handwritten"):
            right = total = traditional = 0
            seconds = 0.0
            for i, t in enumerate(sheets):
                image = render(t, style == "handwritten", random.Random(i))  # noqa: S311
                media = "pdf" if style == "pdf" else "png"
                r, n, trad, s = score(encode(image, media.upper()), media, t, engine)
                right, total, traditional, seconds = (
                    right + r,
                    total + n,
                    traditional + trad,
                    seconds + s,
                )
            print(
                f"{engine.name:32s} {style:11s}: {right:3d}/{total} fields exact "
                f"({100 * right / total:5.1f} %), {traditional} Traditional chars, "
                f"{seconds / len(sheets):4.1f} s/page"
            )


if __name__ == "__main__":
    main()
