"""Principal I/O models."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator

from kgservice.auth.models import Principal
from kgservice.auth.roles import INSTITUTION_BOUND, Role
from kgservice.ledger.schemas import ReceiptOut


class PrincipalIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    role: Role
    institution: str | None = Field(
        default=None, description="required for institution-bound roles"
    )

    @model_validator(mode="after")
    def _bound_roles_need_an_institution(self) -> PrincipalIn:
        if self.role in INSTITUTION_BOUND and self.institution is None:
            raise ValueError(f"role '{self.role}' must be bound to an institution")
        return self


class PrincipalCreated(BaseModel):
    principal: Principal
    api_key: str = Field(description="shown once; only its hash is stored")
    receipt: ReceiptOut


class PrincipalRevoked(BaseModel):
    principal: Principal
    receipt: ReceiptOut
