"""Record I/O models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from kgservice.ledger.schemas import ReceiptOut


class FieldTag(BaseModel):
    id: str
    kind: str
    location: str
    category: str
    level: int = Field(ge=1, le=5)
    tier: str
    rule: str = Field(description="the grading rule that set category, level and tier")
    flagged: bool = Field(description="accepted with a warning; awaits human review")


class RecordReceipt(BaseModel):
    id: str
    kind: str
    patient: str | None = Field(description="keyed pseudonym, never the identity")
    fields: list[FieldTag]


class Finding(BaseModel):
    location: str
    rule: str
    severity: str
    message_zh: str
    message_en: str
    article: str
    detail: str


class ContributionOut(BaseModel):
    records: int
    fields: int
    completeness: float
    rare_conditions: int
    flagged: int


class SubmissionReceipt(BaseModel):
    sha256: str
    institution: str
    reader: str
    received: str
    duplicate: bool = Field(description="true when these bytes were accepted before")
    records: list[RecordReceipt]
    warnings: list[Finding]
    contribution: ContributionOut
    ledger: ReceiptOut


class RejectedSubmission(BaseModel):
    error: str
    detail: str
    violations: list[Finding]


class FieldOut(BaseModel):
    id: str
    kind: str
    category: str
    level: int
    tier: str
    rule: str
    location: str
    confidence: float
    unit: str | None = None
    code: str | None = None
    time: str | None = None
    flagged: bool
    value: str | None = Field(description="null when protected and not yours to read")
    protected: bool = Field(description="stored only as ciphertext (core privacy)")
    pseudonym: str | None = None


class RecordOut(BaseModel):
    id: str
    kind: str
    institution: str
    received: str
    patient: str | None
    source: dict[str, Any]
    fields: list[FieldOut]
