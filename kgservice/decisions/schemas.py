"""Decision I/O models."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

from kgservice.ledger.schemas import ReceiptOut
from kgservice.vocab import Category, LegalBasis, Purpose


class Kind(StrEnum):
    access = "access"  # read a patient's or a cohort's records
    export = "export"  # take data out of the holder's systems
    share = "share"  # give data to another processor
    training = "training"  # take part in a federated training job


class Verdict(StrEnum):
    permit = "permit"
    deny = "deny"
    review = "review"


class Emergency(BaseModel):
    """Break-glass (PIPL Art. 13(4)): why the data are needed now, for the committee."""

    justification: str = Field(min_length=10, max_length=2000)


class DecisionIn(BaseModel):
    kind: Kind
    # Optional here so that a missing purpose or basis is a red-line denial with its article,
    # recorded on the ledger, rather than a bare validation error.
    purpose: Purpose | None = None
    legal_basis: LegalBasis | None = None
    holder: str = Field(min_length=1, description="institution holding the data")
    recipient: str | None = Field(default=None, description="who receives the data (export, share)")
    patients: list[str] = Field(default=[], max_length=10_000, description="patient pseudonyms")
    categories: list[Category] = Field(min_length=1)
    max_level: int = Field(ge=1, le=5, description="highest sensitivity level requested")
    deidentified: bool = Field(default=False, description="direct identifiers removed first")
    product: str | None = Field(default=None, description="data product, for commercialisation")
    emergency: Emergency | None = None


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
