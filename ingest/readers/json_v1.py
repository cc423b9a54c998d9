"""Our documented JSON format (``json/v1``), for EHR exports and systems that map their own data.

    {"records": [{
        "patient": {"name": "...", "resident_id": "...", "phone": "...", "address": "...",
                    "birth_date": "1960-05-01", "sex": "female", "mrn": "...",
                    "insurance_number": "..."},
        "encounter": {"date": "2026-11-02"},
        "observations": [{"type": "fasting_glucose", "value": 7.2, "unit": "mmol/L",
                          "time": "2026-11-02T08:00:00+08:00"}],
        "conditions": [{"code": "E11.9", "display": "2型糖尿病"}],
        "medications": [{"drug": "二甲双胍", "dose": "500 mg", "frequency": "bid",
                         "prescribed": true}]
    }]}

Observation types: fasting_glucose, postprandial_glucose, random_glucose, hba1c,
systolic_bp, diastolic_bp, weight, egfr, hiv_test. Unknown keys are refused, so a typo is an
error that names its place rather than silently lost data.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ingest.errors import IngestError
from ingest.model import Datum, Extracted, Subject, SubjectKind
from ingest.readers import jsondoc

READER = "json/v1"
OBSERVATION_KINDS = {
    "fasting_glucose": "FastingGlucose",
    "postprandial_glucose": "PostprandialGlucose",
    "random_glucose": "RandomGlucose",
    "hba1c": "HbA1c",
    "systolic_bp": "SystolicPressure",
    "diastolic_bp": "DiastolicPressure",
    "weight": "BodyWeight",
    "egfr": "EGFR",
    "hiv_test": "HIVTest",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PatientIn(_Strict):
    name: str | None = None
    resident_id: str | None = None
    phone: str | None = None
    address: str | None = None
    birth_date: date | None = None
    sex: Literal["male", "female", "other", "unknown"] | None = None
    mrn: str | None = None
    insurance_number: str | None = None
    device_user_id: str | None = None


class ObservationIn(_Strict):
    type: Literal[
        "fasting_glucose",
        "postprandial_glucose",
        "random_glucose",
        "hba1c",
        "systolic_bp",
        "diastolic_bp",
        "weight",
        "egfr",
        "hiv_test",
    ]
    value: Decimal | str
    unit: str | None = None
    time: datetime | None = None


class ConditionIn(_Strict):
    code: str = Field(description="ICD-10")
    display: str | None = None
    onset: date | None = None


class MedicationIn(_Strict):
    drug: str
    dose: str | None = None
    frequency: str | None = None
    prescribed: bool = False


class EncounterIn(_Strict):
    date: date


class RecordIn(_Strict):
    patient: PatientIn
    encounter: EncounterIn | None = None
    observations: list[ObservationIn] = []
    conditions: list[ConditionIn] = []
    medications: list[MedicationIn] = []


class DocumentIn(_Strict):
    records: list[RecordIn] = Field(min_length=1)


_PATIENT_KINDS = {
    "name": "PersonName",
    "resident_id": "ResidentId",
    "phone": "PhoneNumber",
    "address": "Address",
    "birth_date": "BirthDate",
    "sex": "Sex",
    "mrn": "MedicalRecordNumber",
    "insurance_number": "InsuranceNumber",
    "device_user_id": "DeviceUserId",
}


def _location(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(document)"


def read(data: bytes, source: str) -> Extracted:
    raw = jsondoc.load(data, source)
    try:
        doc = DocumentIn.model_validate(raw)
    except ValidationError as e:
        first = e.errors()[0]
        raise IngestError(f"{source} {_location(first['loc'])}", first["msg"]) from None
    return Extracted(
        READER,
        "structured-parse",
        [_subject(r, f"{source} records[{i}]") for i, r in enumerate(doc.records)],
    )


def _subject(record: RecordIn, at: str) -> Subject:
    subject = Subject(SubjectKind.patient, at)
    for key, kind in _PATIENT_KINDS.items():
        value = getattr(record.patient, key)
        if value is not None:
            subject.data.append(Datum(kind, str(value), f"{at}.patient.{key}"))
    if record.encounter is not None:
        d = record.encounter.date
        subject.data.append(
            Datum(
                "EncounterDate",
                d.isoformat(),
                f"{at}.encounter.date",
                time=datetime(d.year, d.month, d.day),
            )
        )
    for j, o in enumerate(record.observations):
        subject.data.append(
            Datum(OBSERVATION_KINDS[o.type], o.value, f"{at}.observations[{j}]", o.unit, o.time)
        )
    for j, c in enumerate(record.conditions):
        subject.data.append(
            Datum("Condition", c.display or c.code, f"{at}.conditions[{j}]", code=c.code)
        )
    for j, m in enumerate(record.medications):
        text = " ".join(x for x in (m.drug, m.dose, m.frequency) if x)
        kind = "Prescription" if m.prescribed else "MedicationStatement"
        subject.data.append(Datum(kind, text, f"{at}.medications[{j}]"))
    return subject
