"""What every reader produces: subjects (records) and the data (fields) read about them.

Readers only read: they name each datum's kind (an ontology class), its raw value and unit, and
where in the source it came from. Normalisation, RDF, grading and protection come after, the same
for every reader.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

Value = str | Decimal | int


class SubjectKind(StrEnum):
    patient = "PatientRecord"
    aggregate = "AggregateRecord"
    institution = "InstitutionRecord"


@dataclass(slots=True)
class Datum:
    """One value read from a source. ``kind`` is the local name of an ``hs:`` field class."""

    kind: str
    value: Value
    location: str  # "row 3, column 'GLU mg/dL'", "entry[2].valueQuantity", "page 1, box 4"
    unit: str | None = None
    time: datetime | None = None
    code: str | None = None
    confidence: float = 1.0


@dataclass(slots=True)
class Subject:
    """Everything one source says about one patient (or aggregate, or institution)."""

    kind: SubjectKind
    ref: str  # the subject's reference within the source, for messages
    data: list[Datum] = field(default_factory=list)


@dataclass(slots=True)
class Extracted:
    reader: str  # e.g. "json/v1", "fhir-r4", "meter/sinocare-csv"
    method: str  # "structured-parse", "table-mapping", "ocr+nlp"
    subjects: list[Subject]
