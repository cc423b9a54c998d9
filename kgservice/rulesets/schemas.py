"""Rule-set I/O models."""

from __future__ import annotations

from pydantic import BaseModel, Field

from kgservice.ledger.schemas import ReceiptOut


class RuleSet(BaseModel):
    hash: str
    status: str = Field(description="candidate, active or retired")
    uploaded_by: str
    uploaded: str
    approved_by_steward: str | None = None
    approved_by_reviewer: str | None = None
    activated: str | None = None


class Change(BaseModel):
    decision: str
    verdict_now: str
    verdict_candidate: str
    rules_now: list[str]
    rules_candidate: list[str]


class Uploaded(BaseModel):
    ruleset: RuleSet
    replayed: int = Field(description="past decisions judged again under the candidate")
    changes: list[Change] = Field(description="every one whose verdict or broken rules change")
    receipt: ReceiptOut


class Approved(BaseModel):
    ruleset: RuleSet
    receipt: ReceiptOut
