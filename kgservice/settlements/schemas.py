"""Settlement, points and redemption I/O models."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from kgservice.ledger.schemas import ReceiptOut

Exact = Decimal | int | str


class GameIn(BaseModel):
    players: list[str] = Field(min_length=1, max_length=15)
    values: dict[str, Exact] = Field(
        description="coalition ('A,B', any order; '' is the empty one) → value; "
        "numbers or exact fractions such as '190/3'"
    )
    weights: dict[str, Exact] | None = Field(
        default=None, description="positive weights (e.g. data size) for the weighted value"
    )


class ShapleyOut(BaseModel):
    shapley: dict[str, str] = Field(description="exact values as fractions ('190/3')")
    decimal: dict[str, float]
    method: Literal["exact", "weighted"]


class SettlementIn(BaseModel):
    game: GameIn = Field(description="the players are institution ids")
    pool: int = Field(ge=1, le=1_000_000_000, description="whole points to divide")
    valuation: Literal["retraining", "reconstruction", "given"] = Field(
        default="given",
        description="how v(S) was obtained: retraining each coalition, reconstructing coalition "
        "models from recorded round updates (GTG-style), or given by the operator",
    )
    job: str | None = Field(default=None, max_length=100, description="the training job valued")


class SettlementOut(BaseModel):
    id: str
    job: str | None
    valuation: str
    method: str
    pool: int
    shapley: dict[str, str]
    points: dict[str, int]
    remainder_rule: str
    created: str
    by: str
    ledger: ReceiptOut | None = None


class CatalogueItemIn(BaseModel):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")
    name_zh: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)
    provider: str | None = Field(default=None, description="institution that provides it")
    unit: str = Field(min_length=1, max_length=50, description="what one unit is")
    price: int = Field(ge=1, le=1_000_000, description="points per unit")


class CatalogueItem(CatalogueItemIn):
    created: str


class RedemptionIn(BaseModel):
    item: str
    quantity: int = Field(default=1, ge=1, le=1000)
    institution: str | None = Field(
        default=None, description="whose points; defaults to the caller's institution"
    )


class RedemptionOut(BaseModel):
    id: str
    institution: str
    item: str
    quantity: int
    points: int
    balance: int = Field(description="the institution's balance after this redemption")
    created: str
    by: str
    ledger: ReceiptOut


class Balance(BaseModel):
    institution: str
    balance: int
    earned: int
    spent: int


class HistoryEntry(BaseModel):
    txn: str
    kind: str
    amount: int
    ref: str | None
    time: str


class UploadAward(BaseModel):
    submissions: int
    points: dict[str, int]
    formula: str
    ledger: ReceiptOut | None
