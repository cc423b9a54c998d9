"""Consent I/O models."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from kgservice.ledger.schemas import ReceiptOut
from kgservice.vocab import Category, Purpose


class PatientRef(BaseModel):
    """The patient, by an identifier (pseudonymised on arrival) or by pseudonym."""

    kind: Literal["ResidentId", "PhoneNumber", "DeviceUserId"] | None = None
    value: str | None = Field(default=None, min_length=1, max_length=100)
    pseudonym: str | None = Field(default=None, pattern=r"^ps_[0-9a-f]{40}$")

    @model_validator(mode="after")
    def _one_way(self) -> PatientRef:
        if (self.pseudonym is None) == (self.kind is None or self.value is None):
            raise ValueError("give either kind and value, or pseudonym")
        return self


class ConsentIn(BaseModel):
    patient: PatientRef
    purposes: list[Purpose] = Field(min_length=1)
    categories: list[Category] = Field(min_length=1)
    separate: bool = Field(description="单独同意: required to provide data to third parties")
    valid_from: AwareDatetime
    valid_until: AwareDatetime | None = None

    @model_validator(mode="after")
    def _ordered(self) -> ConsentIn:
        if self.valid_until is not None and self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        return self


class Consent(BaseModel):
    id: str
    holder: str
    patient: str
    purposes: list[Purpose]
    categories: list[Category]
    separate: bool
    valid_from: str
    valid_until: str | None
    created: str
    revoked: str | None = None


class ConsentRecorded(BaseModel):
    consent: Consent
    receipt: ReceiptOut
