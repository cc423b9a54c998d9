"""The deterministic mapping from a checked submission to Neo4j rows, with protection applied.

Graph shape (documented in docs/graph-schema.md):
  (:Source {key, sha256, institution, reader, method, format, name, received, principal, ...})
  (:Record {id, kind, institution, received})-[:DERIVED_FROM]->(:Source)
  (:Record)-[:HELD_BY]->(:Institution), (:Record)-[:ABOUT]->(:Patient {pseudonym})
  (:Record)-[:HAS_FIELD]->(:Field {id, kind, category, level, tier, rule, location, confidence,
                                   unit, code, time, flagged, value | value_enc, pseudonym})
No plaintext of a core-private field is in any row: identifiers become pseudonyms and every
core-private value becomes ciphertext.

``prepare`` runs in the checking process (kgservice/records/checking.py), right after the check:
the service gets rows of plain values rather than the checked submission's object graph, which
cost ~0.5 s of pickling and unpickling per 1,000 JSON records against ~0.03 s for the rows, and
its event loop spends nothing on encrypting and hashing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic_core import to_json

from ingest.grading import Finding as EngineFinding
from ingest.model import Datum, Subject, SubjectKind
from ingest.pipeline import Checked, CheckedField
from kgservice.records.contribution import Contribution, measure
from kgservice.records.protection import Protector
from kgservice.records.schemas import FieldTag, Finding

IDENTIFIER_KINDS = frozenset(
    {
        "PersonName",
        "ResidentId",
        "PhoneNumber",
        "Address",
        "MedicalRecordNumber",
        "DeviceUserId",
        "InsuranceNumber",
    }
)
# Identifiers that name a person across the alliance, strongest first. A medical record number
# is only unique inside its institution, so it is scoped by it.
LINKING_KINDS = ("ResidentId", "PhoneNumber", "DeviceUserId", "MedicalRecordNumber")
CORE = "CorePrivacy"


@dataclass(frozen=True, slots=True)
class Prepared:
    """A checked submission, protected and ready to store; or its violations."""

    digest: str  # SHA-256 of the submitted bytes
    institution: str  # whose keys protect the rows (and bind their ciphertexts)
    reader: str
    method: str
    received: str
    count: int  # records in the file
    violations: list[Finding]  # if any, nothing else is prepared (``records`` is empty)
    records: list[dict[str, Any]]  # each with its "fields": the Field nodes' properties
    warnings: list[Finding]
    contribution: Contribution | None
    receipt_records: str  # the receipt's ``records`` as JSON (``receipt_records``)


def finding_out(location: str, f: EngineFinding) -> Finding:
    r = f.rule
    return Finding(
        location=location,
        rule=r.id,
        severity=r.severity,
        message_zh=r.message_zh,
        message_en=r.message_en,
        article=r.article,
        detail=f.detail,
    )


def prepare(p: Protector, checked: Checked, institution: str, received: str) -> Prepared:
    # An ungraded field is among the violations: R-GRADED reports every field without exactly
    # one grade.
    violations = [finding_out(loc, f) for loc, f in checked.violations]
    extracted = checked.extracted
    if violations:
        return Prepared(
            checked.digest,
            institution,
            extracted.reader,
            extracted.method,
            received,
            len(checked.records),
            violations,
            [],
            [],
            None,
            "[]",
        )
    warnings = [
        finding_out(f.ref.datum.location, x)
        for f in checked.fields
        for x in f.findings
        if x.rule.severity != "Violation"
    ]
    stored = rows(p, checked, institution, received)
    return Prepared(
        checked.digest,
        institution,
        extracted.reader,
        extracted.method,
        received,
        len(checked.records),
        [],
        stored,
        warnings,
        measure(checked),
        receipt_records(stored),
    )


# What the receipt says about each field.
TAG_KEYS = tuple(FieldTag.model_fields)


_RECEIPT_PARTS: dict[str, Any] = {
    "__all__": {"id": True, "kind": True, "patient": True, "fields": {"__all__": set(TAG_KEYS)}}
}


def receipt_records(records: list[dict[str, Any]]) -> str:
    """The receipt's ``records`` (``RecordReceipt``s) as JSON, made here from the rows: as
    models in the service they cost ~0.1 s per 1,000 records to build and dump there (14,000
    field tags), in the process that also stores. pydantic-core's encoder picks the parts out
    of the rows in ~0.03 s (``json.dumps`` of the parts copied into new dictionaries: ~0.06 s).
    The tests hold it to the models."""
    return to_json(records, include=_RECEIPT_PARTS).decode()


def patient_pseudonym(
    p: Protector, subject: Subject, institution: str, digest: str, index: int
) -> str:
    for kind in LINKING_KINDS:
        for d in subject.data:
            if d.kind == kind:
                scoped = (
                    f"{institution}:{d.value}" if kind == "MedicalRecordNumber" else str(d.value)
                )
                return p.pseudonym(kind, scoped)
    # Nothing links this person to other sources: a pseudonym of its own.
    return p.pseudonym("Unlinked", f"{institution}:{digest}:{index}")


def _value_text(d: Datum) -> str:
    return str(d.value)


def field_row(p: Protector, institution: str, f: CheckedField) -> dict[str, Any]:
    """A Field node's properties. An absent value is left out rather than sent as null: Neo4j
    reads ``SET x = row``'s null as "remove this property", which it looks up even on a new
    node: storing 1,000 FHIR records cost it 0.77 s of CPU with the three or four nulls of each
    field, 0.72 s without (means of five alternating blocks of four)."""
    d = f.ref.datum
    grade = f.grade
    if grade is None:  # R-GRADED refuses such a submission before it gets here
        raise ValueError(f"field {f.ref.field_id} has no grade and cannot be stored")
    row: dict[str, Any] = {
        "id": f.ref.field_id,
        "kind": d.kind,
        "category": grade.category,
        "level": grade.level,
        "tier": grade.tier,
        "rule": grade.rule,
        "location": d.location,
        "confidence": d.confidence,
        "flagged": any(x.rule.severity == "Warning" for x in f.findings),
    }
    if d.unit is not None:
        row["unit"] = d.unit
    if d.time is not None:
        row["time"] = d.time.isoformat()
    if grade.tier == CORE:
        row["value_enc"] = p.encrypt(institution, f.ref.field_id, _value_text(d))
        if d.kind in IDENTIFIER_KINDS:
            row["pseudonym"] = p.pseudonym(d.kind, _value_text(d))
        if d.code is not None:
            # A diagnosis code says as much as the value (a rare or special disease): encrypt it.
            row["code_enc"] = p.encrypt(institution, f.ref.field_id + ":code", d.code)
    else:
        if d.code is not None:
            row["code"] = d.code
        row["value"] = _value_text(d)
    return row


def rows(p: Protector, checked: Checked, institution: str, received: str) -> list[dict[str, Any]]:
    """One row per record, its fields' rows nested in it (the statement creates each field from
    its record's row, so no field needs to name its record)."""
    fields: dict[str, list[dict[str, Any]]] = {}
    for f in checked.fields:
        fields.setdefault(f.ref.record_id, []).append(field_row(p, institution, f))
    records = []
    for (rid, _), (i, subject) in zip(
        checked.records, enumerate(checked.extracted.subjects), strict=True
    ):
        patient = (
            patient_pseudonym(p, subject, institution, checked.digest, i)
            if subject.kind is SubjectKind.patient
            else None
        )
        records.append(
            {
                "id": rid,
                "kind": subject.kind.value,
                "institution": institution,
                "received": received,
                "patient": patient,
                "fields": fields.get(rid, []),
            }
        )
    return records
