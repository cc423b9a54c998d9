"""Training job I/O models."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from kgservice.ledger.schemas import ReceiptOut
from kgservice.vocab import LegalBasis

Task = Literal["poor_glycaemic_control", "complication_risk"]
Feature = Literal["FastingGlucose", "SystolicPressure", "DiastolicPressure", "BodyWeight", "HbA1c"]


class TrainingJobIn(BaseModel):
    task: Task = Field(
        default="poor_glycaemic_control",
        description="poor_glycaemic_control: HbA1c ≥ 7.0 %; complication_risk: has a diabetic "
        "complication (E10–E14 .2–.6, L13.8)",
    )
    features: list[Feature] | None = Field(
        default=None,
        min_length=1,
        description="de-identified inputs (level 3 at most); default: the task's",
    )
    metric: Literal["accuracy", "auc"] | None = Field(
        default=None,
        description="v(S) on the validation set; default: accuracy for poor_glycaemic_control, "
        "AUC for complication_risk (rare positives make accuracy uninformative)",
    )
    institutions: list[str] = Field(min_length=1, max_length=15, description="participants")
    requester: str = Field(description="owns the held-out validation set (one of the institutions)")
    legal_basis: LegalBasis = Field(description="checked by the training red lines")
    rounds: int = Field(default=2, ge=1, description="federated rounds (~7 s each here)")
    valuation: Literal["auto", "retraining", "reconstruction"] = Field(
        default="auto",
        description="how coalition utilities are obtained; auto: retraining for small alliances",
    )
    held_out: float = Field(default=0.3, gt=0, lt=1, description="share of the requester's rows")


class RoundOut(BaseModel):
    round: int
    participants: list[str]
    accuracy: float = Field(description="validation accuracy of the global model, %")
    auc: float | None = Field(default=None, description="validation ROC AUC of the global model")
    ledger_seq: int | None = None


class TrainingJobOut(BaseModel):
    id: str
    status: Literal["running", "completed", "failed"]
    task: str
    features: list[str]
    metric: str = "accuracy"  # jobs recorded before tasks had a choice of metric
    institutions: list[str]
    requester: str
    rounds: int
    valuation: str
    decisions: list[str] = Field(description="the compliance decisions (one per institution)")
    created: str
    by: str
    finished: str | None = None
    error: str | None = None
    examples: dict[str, int] | None = None
    history: list[RoundOut] = []
    utilities: dict[str, float] | None = Field(
        default=None, description="v(S) per coalition ('A,B'; '' is the empty one), metric × 100"
    )
    product: str | None = Field(default=None, description="the trained model's data product id")
    messages: list[dict[str, Any]] | None = Field(
        default=None,
        description="every message the coordinator received: record names, array shapes, "
        "metric and config keys (no values) — what crossed the node boundaries",
    )
    ledger: ReceiptOut | None = None


class TrainingSettlementIn(BaseModel):
    pool: int = Field(ge=1, le=1_000_000_000)
