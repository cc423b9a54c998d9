"""Scanned follow-up sheets (PNG, JPEG, PDF): OCR, layout, then the same recognisers as notes.

One page is one sheet about one patient. Every datum's location names its page, row and box and
carries the lowest OCR confidence of its characters, so a value read with low confidence is
flagged for human review (shapes/records.ttl, R-LOW-CONFIDENCE) instead of accepted silently.
"""

from __future__ import annotations

from ingest.errors import IngestError
from ingest.model import Extracted
from ingest.nlp.extract import extract
from ingest.ocr.engine import OcrEngine, read_pages
from ingest.ocr.layout import layout

READER = "scan/ocr"


def read(data: bytes, media: str, source: str, engine: OcrEngine) -> Extracted:
    pages = read_pages(data, media, source, engine)
    subjects = []
    for page in pages:
        text = layout([page])
        subject = extract(text.text, f"{source} page {page.number}", text.locate)
        if subject.data:
            subjects.append(subject)
    if not subjects:
        raise IngestError(source, "no text that could be read as a follow-up sheet was found")
    return Extracted(f"{READER} ({engine.name})", "ocr+nlp", subjects)
