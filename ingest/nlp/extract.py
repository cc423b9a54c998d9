"""From recognised text to the data every reader produces (``ingest.model``).

Shared by scanned sheets and free-text notes, so both go through the same normalise → RDF →
grade → protect → store path as structured input. Each datum's location and confidence come from
a ``Locator``: for OCR text, the page, line and box of the characters and the lowest OCR
confidence among them; for a note, the character offsets.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from ingest.errors import IngestError
from ingest.model import Datum, Subject, SubjectKind
from ingest.nlp.clinical import Entity
from ingest.nlp.identifiers import STAFF_CONTEXT
from ingest.nlp.pipeline import nlp

# (start, end) → (location text, confidence)
Locator = Callable[[int, int], tuple[str, float]]

# jieba, spaCy's Chinese segmenter, finds unknown words with an HMM whose Viterbi copies its
# paths at every step: quadratic in a run of Han characters that form no dictionary word
# (100,000 of them took ~30 s of the checking process, holding up every other submission). No
# sheet or note has such a run without punctuation or a space, so a longer one is refused.
MAX_HAN_RUN = 1_000
_LONG_HAN_RUN = re.compile(r"[\u4e00-\u9fd5]{%d,}" % (MAX_HAN_RUN + 1))  # noqa: UP031

IDENTIFIER_KINDS = {
    "name": "PersonName",
    "resident_id": "ResidentId",
    "phone": "PhoneNumber",
    "address": "Address",
    "mrn": "MedicalRecordNumber",
    "insurance_number": "InsuranceNumber",
}


def _line_of(text: str, at: int) -> tuple[int, int]:
    start = text.rfind("\n", 0, at) + 1
    end = text.find("\n", at)
    return start, len(text) if end < 0 else end


def _day(value: str) -> datetime:
    return datetime.fromisoformat(value)


def extract(text: str, ref: str, locate: Locator) -> Subject:
    """One patient's data from ``text`` (a sheet or a note about one patient)."""
    run = _LONG_HAN_RUN.search(text)
    if run is not None:
        where, _ = locate(run.start(), run.end())
        raise IngestError(
            f"{ref} {where}",
            f"{run.end() - run.start()} Chinese characters "
            f"with no break; at most {MAX_HAN_RUN} in a row are read",
        )
    doc = nlp()(text)
    subject = Subject(SubjectKind.patient, ref)
    seen: set[tuple[str, str]] = set()

    def add(
        kind: str,
        value: str,
        start: int,
        end: int,
        unit: str | None = None,
        time: datetime | None = None,
        code: str | None = None,
    ) -> None:
        key = (kind, f"{value}@{time}")
        if key in seen:
            return  # a sheet repeats the name in its signature line, a note repeats the phone
        seen.add(key)
        where, confidence = locate(start, end)
        subject.data.append(Datum(kind, value, where, unit, time, code, confidence))

    for s in doc.user_data["identifiers"]:
        if s.type == "name" and s.context in STAFF_CONTEXT:
            continue  # the doctor who signed the sheet is not the patient
        add(IDENTIFIER_KINDS[s.type], s.text, s.start, s.end)
    found: list[Entity] = doc.user_data["clinical"]
    visit = next((e for e in found if e.kind == "EncounterDate"), None)
    for e in found:
        if e.type == "date" and e.kind:
            add(e.kind, e.value, e.start, e.end, time=_day(e.value))
        elif e.type == "sex":
            add("Sex", e.value, e.start, e.end)
        elif e.type == "diagnosis":
            add("Condition", e.value, e.start, e.end, code=e.code)
        elif e.type == "drug":
            add("MedicationStatement", e.value, e.start, e.end)
        elif e.type == "measurement":
            when = _reading_time(text, e, found, visit)
            add(e.kind, e.value, e.start, e.end, unit=e.unit, time=when)
    return subject


def _reading_time(
    text: str, e: Entity, found: list[Entity], visit: Entity | None
) -> datetime | None:
    """A reading's time: a date on its own line (a table row), else the visit date."""
    start, end = _line_of(text, e.start)
    for d in found:
        if d.type == "date" and start <= d.start < end and d.kind != "BirthDate":
            return _day(d.value)
    return _day(visit.value) if visit is not None else None
