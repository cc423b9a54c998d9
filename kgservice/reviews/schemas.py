"""Review I/O models."""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from kgservice.ledger.schemas import ReceiptOut


class Status(StrEnum):
    open = "open"
    claimed = "claimed"
    decided = "decided"


class Outcome(StrEnum):
    uphold = "uphold"  # the decision (or the override) stands
    reverse = "reverse"  # it was wrong; the record says so
    exemption = "exemption"  # allow it, within a scoped, time-limited use grant


class Review(BaseModel):
    id: str
    decision: str
    kind: str  # "review" (a review verdict) or "override" (break-glass)
    status: Status
    holder: str
    requester: str
    rules: list[str]
    created: str
    claimed_by: str | None = None
    decided_by: str | None = None
    outcome: Outcome | None = None
    reason: str | None = None
    grant: str | None = None


class DecideIn(BaseModel):
    outcome: Outcome
    reason: str = Field(min_length=10, max_length=4000, description="written reason, kept")
    exemption_until: AwareDatetime | None = Field(
        default=None, description="end of the exemption grant (outcome 'exemption')"
    )

    @model_validator(mode="after")
    def _exemption_needs_an_end(self) -> DecideIn:
        if (self.outcome is Outcome.exemption) != (self.exemption_until is not None):
            raise ValueError("an exemption, and only an exemption, needs exemption_until")
        return self


class ReviewStep(BaseModel):
    review: Review
    receipt: ReceiptOut
