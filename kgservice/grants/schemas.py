"""Grant I/O models."""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from kgservice.ledger.schemas import ReceiptOut
from kgservice.vocab import Category, Purpose

ALLIANCE = "alliance"  # grantee name for alliance-wide principals (e.g. the training operator)


class Right(StrEnum):
    use = "use"  # 数据加工使用权
    operation = "operation"  # 数据产品经营权


class GrantIn(BaseModel):
    right: Right
    holder: str = Field(min_length=1, description="institution granting the right")
    grantee: str = Field(min_length=1, description=f"institution id, or '{ALLIANCE}'")
    purposes: list[Purpose] = Field(min_length=1)
    categories: list[Category] = Field(min_length=1)
    max_level: int = Field(ge=1, le=5)
    product: str | None = Field(default=None, description="data product (operation right)")
    valid_from: AwareDatetime
    valid_until: AwareDatetime | None = None

    @model_validator(mode="after")
    def _consistent(self) -> GrantIn:
        if self.right is Right.operation and not self.product:
            raise ValueError("an operation right names its data product")
        if self.valid_until is not None and self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        return self


class Grant(BaseModel):
    id: str
    right: Right
    holder: str
    grantee: str
    purposes: list[Purpose]
    categories: list[Category]
    max_level: int
    product: str | None
    valid_from: str
    valid_until: str | None
    granted_by: str
    created: str
    revoked: str | None = None


class GrantRecorded(BaseModel):
    grant: Grant
    receipt: ReceiptOut
