"""The diabetes-alliance scenario of the seed (§4.5), end to end, on the real components.

After the demo data are in (``kgservice.demo``): a red line intercepts an export of clinic B's
identifiers (ledgered), the three institutions train a model federatedly on Flower (one SuperNode
process each), the job is settled into points by Shapley values, upload contributions earn their
points, clinic B redeems a consultation at hospital A, and the whole ledger is verified. Each step
calls the same service functions the HTTP endpoints call. ``run`` reports progress through a
callback and returns what the report needs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kgservice.auth import service as principals
from kgservice.auth.models import Principal
from kgservice.decisions.engine import DecisionEngine
from kgservice.decisions.schemas import DecisionIn, DecisionOut, Kind
from kgservice.errors import Conflict
from kgservice.graph.database import Graph
from kgservice.ledger.service import Ledger
from kgservice.ledger.verify import Report, verify_stored
from kgservice.records.protection import Protector
from kgservice.settings import TrainingSettings
from kgservice.settlements import service as settlements
from kgservice.settlements.schemas import Balance, RedemptionIn, RedemptionOut, SettlementOut
from kgservice.training import service as training
from kgservice.training.schemas import TrainingJobIn, TrainingJobOut
from kgservice.vocab import Category, LegalBasis, Purpose

INSTITUTIONS = ["hosp-a", "clinic-b", "clinic-c"]
Step = Callable[[str], None]


@dataclass
class Outcome:
    interception: DecisionOut | None = None
    job: TrainingJobOut | None = None
    held_out: float | None = None  # the requester's share of rows kept for validation
    settlement: SettlementOut | None = None
    uploads: dict[str, int] = field(default_factory=dict)
    redemption: RedemptionOut | None = None
    redemption_refused: str | None = None
    balances: dict[str, Balance] = field(default_factory=dict)
    records: dict[str, int] = field(default_factory=dict)
    ledger: Report | None = None


async def _principal(graph: Graph, keys: dict[str, str], name: str) -> Principal:
    found = await graph.read(principals.authenticate, keys[name])
    if found is None:
        raise LookupError(f"demo principal '{name}' is missing")
    return found


async def run(
    graph: Graph,
    ledger: Ledger,
    decisions: DecisionEngine,
    settings: TrainingSettings,
    protector: Protector,
    keys: dict[str, str],
    step: Step,
    rounds: int = 3,
) -> Outcome:
    out = Outcome()
    operator = await _principal(graph, keys, "alliance operator")
    clinic_b = await _principal(graph, keys, "clinic-b records")

    step("red line: clinic B asks to export patients' phone numbers and addresses")
    export = DecisionIn(
        kind=Kind.export,
        purpose=Purpose.research,
        legal_basis=LegalBasis.consent,
        holder="clinic-b",
        recipient="pharma-research-co",
        categories=[Category.personal_attributes],
        max_level=4,
    )
    out.interception = await decisions.decide(clinic_b, export)

    step(
        f"federated training of complication risk: 3 SuperNodes, {rounds} rounds, every "
        "coalition retrained"
    )
    spec = TrainingJobIn(
        task="complication_risk",
        institutions=INSTITUTIONS,
        requester="hosp-a",
        legal_basis=LegalBasis.contract,
        rounds=rounds,
    )
    job = await training.start(graph, ledger, decisions, settings, operator, spec)
    out.held_out = spec.held_out
    await training.run(
        graph, ledger, settings, operator.id, job.id, spec.held_out, threading.Event(), protector
    )
    out.job = await graph.read(training.get, job.id)
    if out.job.status != "completed":
        raise RuntimeError(f"training job {job.id} {out.job.status}: {out.job.error}")

    step("settlement: Shapley values of the job's coalitions into 1,000 points")
    out.settlement = await graph.write(training.settle, ledger, operator, job.id, 1000)

    step("upload contributions earn points by the documented formula")
    out.uploads = (await graph.write(settlements.award_uploads, ledger, operator)).points

    step("clinic B redeems a specialist consultation at hospital A")
    try:
        out.redemption = await graph.write(
            settlements.redeem, ledger, clinic_b, RedemptionIn(item="consult-hosp-a")
        )
    except Conflict as e:
        out.redemption_refused = e.detail
    for institution in INSTITUTIONS:
        out.balances[institution] = await graph.read(settlements.balance, operator, institution)
    out.records = await graph.read(_record_counts)

    step("verifying every ledger entry and signature")
    out.ledger = await verify_stored(
        graph, ledger.signer.public, ledger.signer.origin, every_signature=True
    )
    return out


async def _record_counts(tx: Any) -> dict[str, int]:
    result = await tx.run("MATCH (r:Record) RETURN r.institution AS i, count(r) AS n")
    return {str(r["i"]): int(r["n"]) async for r in result}
