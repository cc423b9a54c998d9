"""Submitting and reading records. One submission is one transaction: the source, its records,
fields, patients, contribution and ledger entry are written together or not at all."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from neo4j import AsyncManagedTransaction

from kgservice.auth.models import Principal
from kgservice.auth.roles import Role
from kgservice.auth.scope import check_scope
from kgservice.errors import NotFound, ShieldError
from kgservice.ledger.canonical import Event
from kgservice.ledger.schemas import ReceiptOut
from kgservice.ledger.service import Ledger
from kgservice.records import repository as repo
from kgservice.records.protection import Protector
from kgservice.records.schemas import (
    ContributionOut,
    FieldOut,
    Finding,
    RecordOut,
    SubmissionReceipt,
)
from kgservice.records.storage import Prepared

# Roles that may see their own institution's core-private values in plaintext.
PLAINTEXT_ROLES = frozenset({Role.institution_system, Role.requester})


class RejectedRecords(ShieldError):
    """The submission breaks record rules; ``violations`` names each place and rule."""

    status_code = 422
    code = "record_rules_violated"

    def __init__(self, violations: list[Finding]) -> None:
        first = violations[0]
        super().__init__(
            f"{len(violations)} rule violation(s); first: {first.location}: {first.rule} "
            f"({first.message_en})"
        )
        self.violations = violations

    def extra(self) -> dict[str, Any]:
        return {"violations": [v.model_dump() for v in self.violations]}


def source_key(institution: str, digest: str) -> str:
    return f"{institution}:{digest}"


@dataclass(frozen=True, slots=True)
class Stored:
    """What storing a submission answers: its receipt, as JSON (~3 MB for 1,000 records, so it
    is made once and never as models: ``receipt_json``)."""

    receipt: str  # a SubmissionReceipt
    duplicate: bool  # the bytes had been accepted before: ``receipt`` is the original one

    def parsed(self) -> SubmissionReceipt:
        return SubmissionReceipt.model_validate_json(self.receipt)


_RECORDS = '"records":[]'


def receipt_json(skeleton: SubmissionReceipt, records: str) -> str:
    """The receipt as JSON: ``skeleton`` (with no records) dumped by its model, and the records
    as the checking process wrote them (``storage.receipt_records``)."""
    text = skeleton.model_dump_json()
    if skeleton.records or text.count(_RECORDS) != 1:
        raise ValueError("a receipt skeleton has one empty list of records")
    return text.replace(_RECORDS, f'"records":{records}')


async def submit(
    tx: AsyncManagedTransaction,
    ledger: Ledger,
    principal: Principal,
    institution: str,
    prepared: Prepared,
    fmt: str,
    name: str,
    size: int,
) -> Stored:
    """Store a prepared, rule-abiding submission; a resubmission returns the original receipt."""
    if prepared.violations or prepared.contribution is None:
        raise ValueError("a submission that breaks record rules is never stored")
    if prepared.institution != institution:
        # Its ciphertexts are bound to the institution it was prepared for.
        raise ValueError("a submission is stored only for the institution it was prepared for")
    key = source_key(institution, prepared.digest)
    previous = await repo.source_receipt(tx, key)
    if previous is not None:
        original = SubmissionReceipt.model_validate_json(previous)
        return Stored(original.model_copy(update={"duplicate": True}).model_dump_json(), True)
    received = prepared.received
    contribution = prepared.contribution.as_json()
    await repo.create_source(
        tx,
        key=key,
        sha256=prepared.digest,
        institution=institution,
        reader=prepared.reader,
        method=prepared.method,
        format=fmt,
        name=name,
        size=size,
        received=received,
        principal=principal.id,
    )
    await repo.create_records(tx, key, institution, prepared.records)
    await repo.create_contribution(
        tx, key=key, institution=institution, time=received, **contribution
    )
    event = Event(
        "records.ingested",
        principal.id,
        {
            "source_sha256": prepared.digest,
            "reader": prepared.reader,
            "record_ids": [r["id"] for r in prepared.records],
            "contribution": contribution,
        },
        institution=institution,
    )
    (ledger_receipt,) = await ledger.append(tx, [event])
    skeleton = SubmissionReceipt(
        sha256=prepared.digest,
        institution=institution,
        reader=prepared.reader,
        received=received,
        duplicate=False,
        records=[],
        warnings=prepared.warnings,
        contribution=ContributionOut.model_validate(contribution),
        ledger=ReceiptOut.of(ledger_receipt),
    )
    receipt = receipt_json(skeleton, prepared.receipt_records)
    await repo.set_receipt(tx, key, receipt, ledger_receipt.seq)
    return Stored(receipt, False)


async def read_record(
    tx: AsyncManagedTransaction, protector: Protector, principal: Principal, record_id: str
) -> RecordOut:
    found = await repo.get_record(tx, record_id)
    if found is None:
        raise NotFound(f"no record '{record_id}'")
    record: dict[str, Any] = found["record"]
    institution = str(record["institution"])
    check_scope(principal, institution)
    own = principal.institution == institution and principal.role in PLAINTEXT_ROLES
    fields = []
    for f in found["fields"]:
        protected = "value_enc" in f
        value = f.get("value")
        code = f.get("code")
        if protected and own:
            value = protector.decrypt(institution, f["id"], f["value_enc"])
            if f.get("code_enc"):
                code = protector.decrypt(institution, f["id"] + ":code", f["code_enc"])
        fields.append(
            FieldOut(
                id=f["id"],
                kind=f["kind"],
                category=f["category"],
                level=f["level"],
                tier=f["tier"],
                rule=f["rule"],
                location=f["location"],
                confidence=f["confidence"],
                unit=f.get("unit"),
                code=code,
                time=f.get("time"),
                flagged=f["flagged"],
                value=value,
                protected=protected,
                pseudonym=f.get("pseudonym"),
            )
        )
    return RecordOut(
        id=record["id"],
        kind=record["kind"],
        institution=institution,
        received=record["received"],
        patient=found["patient"],
        source=dict(found["source"]),
        fields=fields,
    )
