"""Free-text clinical notes (text/plain, UTF-8) about one patient: the recognisers of
``ingest.nlp`` give identifiers, diagnoses, drugs and readings; locations are character offsets.

The note's text itself is not stored: its identifiers would have to be found perfectly to store it
safely. Its source digest is kept in provenance, and every extracted value cites its offsets.
"""

from __future__ import annotations

from ingest.errors import IngestError
from ingest.model import Extracted
from ingest.nlp.extract import extract

READER = "note/zh"
MAX_CHARS = 100_000


def read(data: bytes, source: str) -> Extracted:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise IngestError(f"{source} byte {e.start}", "the note is not UTF-8 text") from None
    if len(text) > MAX_CHARS:
        raise IngestError(source, f"{len(text)} characters; at most {MAX_CHARS} per note")

    def locate(start: int, end: int) -> tuple[str, float]:
        return f"characters {start}-{end}", 1.0

    subject = extract(text, source, locate)
    if not subject.data:
        raise IngestError(source, "nothing in the note could be read as patient data")
    return Extracted(READER, "nlp", [subject])
