"""Decision I/O models."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, Field, model_validator

from kgservice.ledger.schemas import ReceiptOut
from kgservice.vocab import Category, LegalBasis, Purpose


class Kind(StrEnum):
    access = "access"  # read a patient's or a cohort's records
    export = "export"  # take data out of the holder's systems
    share = "share"  # give data to another processor
    training = "training"  # take part in a federated training job
    prescription = "prescription"  # check a prescription before it is signed


class Verdict(StrEnum):
    permit = "permit"
    deny = "deny"
    review = "review"


class Emergency(BaseModel):
    """Break-glass (PIPL Art. 13(4)): why the data are needed now, for the committee."""

    justification: str = Field(min_length=10, max_length=2000)


class PrescriptionIn(BaseModel):
    drug: str = Field(min_length=1, max_length=100, description="name, English or Chinese")
    daily_dose_mg: Decimal = Field(gt=0, le=100_000)
    diagnosis: str = Field(pattern=r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?$", description="ICD-10")
    egfr: Decimal | None = Field(default=None, ge=0, le=250, description="mL/min/1.73 m²")


class DecisionIn(BaseModel):
    kind: Kind
    # Optional here so that a missing purpose or basis is a red-line denial with its article,
    # recorded on the ledger, rather than a bare validation error.
    purpose: Purpose | None = None
    legal_basis: LegalBasis | None = None
    holder: str = Field(min_length=1, description="institution holding the data")
    recipient: str | None = Field(default=None, description="who receives the data (export, share)")
    patients: list[str] = Field(default=[], max_length=10_000, description="patient pseudonyms")
    categories: list[Category] = Field(default=[], description="required unless a prescription")
    max_level: int = Field(default=3, ge=1, le=5, description="highest level requested")
    deidentified: bool = Field(default=False, description="direct identifiers removed first")
    product: str | None = Field(default=None, description="data product, for commercialisation")
    emergency: Emergency | None = None
    prescription: PrescriptionIn | None = None

    @model_validator(mode="after")
    def _shape_of_kind(self) -> DecisionIn:
        if (self.kind is Kind.prescription) != (self.prescription is not None):
            raise ValueError("a prescription check, and only one, carries `prescription`")
        if self.kind is not Kind.prescription and not self.categories:
            raise ValueError("name the data categories requested")
        return self


class Reason(BaseModel):
    rule: str
    severity: str
    message_zh: str
    message_en: str
    article: str
    offending: list[str] = Field(description="the values that break the rule")


class DecisionOut(BaseModel):
    id: str
    verdict: Verdict
    obligations: list[str]
    reasons: list[Reason]
    rule_set: str = Field(description="SHA-256 of the rule files this decision used")
    override: bool = Field(description="permitted by break-glass over the rules in `reasons`")
    review: str | None = Field(description="the committee review item this decision opened")
    decided: str
    ledger: ReceiptOut
