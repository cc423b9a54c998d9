"""Training jobs: the compliance decision first, then Flower, then the ledger.

``start`` asks the red lines (a ``training`` decision per participating institution, each its
own ledgered decision) and refuses the job unless every one permits; it then records the job and
runs it in the background. ``run`` exports each institution's de-identified features to that
institution's node, holds out the requester's validation rows, runs the federation, and records in
one transaction: one ledger entry per round (participants, each institution's update digest and
example count, validation accuracy), the coalition utilities with how they were obtained, the model
as a data product, and the operation right over it granted to the alliance (the operator acts for
it), one grant per participating holder.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
from neo4j import AsyncManagedTransaction

from kgservice.auth.models import Principal
from kgservice.decisions.engine import DecisionEngine
from kgservice.decisions.schemas import DecisionIn, DecisionOut, Kind, Verdict
from kgservice.errors import NotFound, ShieldError, Unprocessable
from kgservice.grants import repository as grants
from kgservice.grants.schemas import ALLIANCE
from kgservice.graph.database import Graph, Runner
from kgservice.ledger.canonical import Event, utc_now, utc_text
from kgservice.ledger.schemas import ReceiptOut
from kgservice.ledger.service import Ledger
from kgservice.records.protection import Protector
from kgservice.settings import TrainingSettings
from kgservice.settlements import repository as settlements_repo
from kgservice.settlements import service as settlements
from kgservice.settlements.schemas import GameIn, SettlementIn, SettlementOut
from kgservice.training import federation
from kgservice.training import repository as repo
from kgservice.training.features import TASK_FEATURES, Dataset, dataset, split
from kgservice.training.schemas import TrainingJobIn, TrainingJobOut
from kgservice.vocab import Category, Purpose

log = logging.getLogger("kgservice.training")


class TrainingRefused(ShieldError):
    """A red line stopped the job; the body lists each decision with its reasons."""

    status_code = 422
    code = "training_refused"

    def __init__(self, detail: str, refused: list[DecisionOut]) -> None:
        super().__init__(detail)
        self.refused = refused

    def extra(self) -> dict[str, Any]:
        return {"decisions": [d.model_dump(mode="json", exclude={"ledger"}) for d in self.refused]}


def _request(spec: TrainingJobIn, holder: str) -> DecisionIn:
    return DecisionIn(
        kind=Kind.training,
        purpose=Purpose.model_training,
        legal_basis=spec.legal_basis,
        holder=holder,
        categories=[Category.health_status],
        max_level=3,
        deidentified=True,
    )


def valuation_of(spec: TrainingJobIn, settings: TrainingSettings) -> str:
    if spec.valuation != "auto":
        return spec.valuation
    return "retraining" if len(spec.institutions) <= settings.retrain_up_to else "reconstruction"


async def start(
    graph: Graph,
    ledger: Ledger,
    decisions: DecisionEngine,
    settings: TrainingSettings,
    principal: Principal,
    spec: TrainingJobIn,
) -> TrainingJobOut:
    institutions = list(dict.fromkeys(spec.institutions))
    if spec.requester not in institutions:
        raise Unprocessable(
            "the requester must be one of the institutions (it holds the validation set)"
        )
    if spec.rounds > settings.max_rounds:
        raise Unprocessable(f"at most {settings.max_rounds} rounds")
    unknown = set(institutions) - await graph.read(
        settlements_repo.known_institutions, institutions
    )
    if unknown:
        raise Unprocessable(f"not registered institutions: {', '.join(sorted(unknown))}")
    features = list(spec.features or TASK_FEATURES[spec.task])
    if spec.task == "poor_glycaemic_control" and "HbA1c" in features:
        raise Unprocessable("HbA1c is this task's label: it cannot be a feature")
    metric = spec.metric or ("auc" if spec.task == "complication_risk" else "accuracy")
    spec = spec.model_copy(
        update={"institutions": institutions, "features": features, "metric": metric}
    )
    made = [await decisions.decide(principal, _request(spec, i)) for i in institutions]
    refused = [d for d in made if d.verdict is not Verdict.permit]
    if refused:
        raise TrainingRefused(
            f"the red lines refused training on {len(refused)} institution(s)' data", refused
        )
    job_id = "job_" + secrets.token_hex(8)
    now = utc_now()
    valuation = valuation_of(spec, settings)

    async def record(tx: AsyncManagedTransaction) -> ReceiptOut:
        await repo.create_job(
            tx,
            id=job_id,
            task=spec.task,
            features=features,
            metric=metric,
            institutions=institutions,
            requester=spec.requester,
            rounds=spec.rounds,
            valuation=valuation,
            decisions=[d.id for d in made],
            created=now,
            by=principal.id,
        )
        event = Event(
            "training.started",
            principal.id,
            {
                "job": job_id,
                "task": spec.task,
                "features": features,
                "metric": metric,
                "institutions": institutions,
                "requester": spec.requester,
                "rounds": spec.rounds,
                "valuation": valuation,
                "decisions": [d.id for d in made],
            },
        )
        return ReceiptOut.of((await ledger.append(tx, [event]))[0])

    receipt = await graph.write(record)
    job = await graph.read(get, job_id)
    return job.model_copy(update={"ledger": receipt})


async def get(tx: Runner, job_id: str) -> TrainingJobOut:
    row = await repo.get_job(tx, job_id)
    if row is None:
        raise NotFound(f"no training job '{job_id}'")
    for key in ("history", "utilities", "examples", "messages"):
        if row.get(key) is not None:
            row[key] = json.loads(row[key])
    return TrainingJobOut.model_validate(row)


async def run(
    graph: Graph,
    ledger: Ledger,
    settings: TrainingSettings,
    actor: str,
    job_id: str,
    held_out: float,
    stop: threading.Event,
    protector: Protector,
) -> None:
    """The job's body, in the background: any failure is recorded on the job and the ledger."""
    job = await graph.read(get, job_id)
    try:
        data = {
            i: await graph.read(dataset, i, job.features, job.task, protector)
            for i in job.institutions
        }
        spec = _files(settings.directory / job_id, job, data, held_out, settings.timeout_s, stop)
        beat = asyncio.create_task(_beat(graph, job_id))
        try:
            result = await anyio.to_thread.run_sync(federation.run, spec)
        finally:
            beat.cancel()
            _forget_features(spec)
        await graph.write(
            _complete, ledger, actor, job, result, {i: len(d) for i, d in data.items()}
        )
    except (federation.FederationError, Unprocessable, OSError, KeyError, ValueError) as e:
        log.warning("training job %s failed: %s", job_id, e)
        await graph.write(_fail, ledger, actor, job_id, str(e))
    except Exception:
        # Anything else is a bug or an outage: record the job as failed without internals (the
        # log has them), so it never stays 'running'. If the graph is down this raises too.
        log.exception("training job %s failed unexpectedly", job_id)
        await graph.write(_fail, ledger, actor, job_id, "internal error; see the service log")


HEARTBEAT_S = 15.0
ORPHANED_AFTER_S = 120.0


async def _beat(graph: Graph, job_id: str) -> None:
    while True:
        await anyio.sleep(HEARTBEAT_S)
        try:
            await graph.write(repo.heartbeat, job_id, utc_now())
        except ShieldError:
            log.warning("training job %s: heartbeat not recorded (graph unavailable)", job_id)


async def reap_orphans(graph: Graph, ledger: Ledger) -> list[str]:
    """Record as failed every running job whose process stopped touching it (killed outright):
    called at start-up, so no job stays 'running' for ever."""
    before = utc_text(datetime.now(UTC) - timedelta(seconds=ORPHANED_AFTER_S))
    orphans = await graph.read(repo.orphaned, before)
    for job_id in orphans:
        await graph.write(
            _fail, ledger, "health-shield", job_id, "orphaned: the service process running it ended"
        )
    return orphans


def _forget_features(spec: federation.Spec) -> None:
    """Delete the feature files once the nodes are done: only logs and results stay on disk."""
    for path in [*spec.data.values(), spec.validation]:
        path.unlink(missing_ok=True)


def _files(
    directory: Path,
    job: TrainingJobOut,
    data: dict[str, Dataset],
    held_out: float,
    timeout_s: float,
    stop: threading.Event,
) -> federation.Spec:
    """Each institution's training rows into its own node's directory; the requester's held-out
    rows into the coordinator's validation file."""
    directory.mkdir(parents=True, exist_ok=True)
    train, validation = split(data[job.requester], held_out, salt=job.id)
    if len(validation) == 0:
        raise Unprocessable(f"{job.requester} has no rows to hold out for validation")
    paths: dict[str, Path] = {}
    for institution, rows in data.items():
        rows = train if institution == job.requester else rows
        if len(rows) == 0:
            raise Unprocessable(f"{institution} has no records usable for {job.task}")
        node_dir = directory / f"node-{institution}"
        node_dir.mkdir(exist_ok=True)
        paths[institution] = node_dir / "features.npz"
        rows.save(paths[institution])
    validation.save(directory / "validation.npz")
    mode = job.valuation
    return federation.Spec(
        directory,
        job.institutions,
        paths,
        directory / "validation.npz",
        job.rounds,
        mode,
        metric=job.metric,
        timeout_s=timeout_s,
        stop=stop,
    )


async def _complete(
    tx: AsyncManagedTransaction,
    ledger: Ledger,
    actor: str,
    job: TrainingJobOut,
    result: dict[str, Any],
    examples: dict[str, int],
) -> None:
    events = []
    history = []
    for r in result["rounds"]:
        updates = [{k: u[k] for k in ("institution", "digest", "examples")} for u in r["updates"]]
        metrics = {"accuracy": round(r["accuracy"], 4), "auc": r.get("auc")}
        events.append(
            Event(
                "training.round",
                actor,
                {
                    "job": job.id,
                    "round": r["round"],
                    "participants": r["participants"],
                    "updates": updates,
                    "global_digest": r["global_digest"],
                    **metrics,
                },
            )
        )
        history.append(
            {
                "round": r["round"],
                "participants": r["participants"],
                "accuracy": round(r["accuracy"], 4),
                "auc": r.get("auc"),
            }
        )
    product = f"model:{job.id}"
    weights = [float(w) for w in result["model"]]
    accuracy = history[-1]["accuracy"] if history else 0.0
    digest = result["rounds"][-1]["global_digest"] if result["rounds"] else ""
    now = utc_now()
    await repo.create_product(
        tx,
        id=product,
        job=job.id,
        task=job.task,
        features=job.features,
        weights=weights,
        accuracy=accuracy,
        digest=digest,
        created=now,
    )
    for holder in job.institutions:
        row = await grants.create(
            tx,
            id="grt_" + secrets.token_hex(8),
            right="operation",
            holder=holder,
            grantee=ALLIANCE,
            purposes=[Purpose.commercialisation.value],
            categories=[Category.health_status.value],
            max_level=3,
            product=product,
            valid_from=now,
            valid_until=None,
            granted_by=actor,
            created=now,
        )
        if row is not None:
            events.append(Event("grant.made", actor, dict(row), institution=holder))
    utilities = {k: round(float(v), 6) for k, v in result["utilities"].items()}
    events.append(
        Event(
            "training.completed",
            actor,
            {
                "job": job.id,
                "valuation": job.valuation,
                "utilities": utilities,
                "product": product,
                "model_digest": digest,
                "trusted_party": "the coordinator sees each institution's update "
                "(needed for valuation)",
            },
        )
    )
    receipts = await ledger.append(tx, events)
    for h, receipt in zip(history, receipts, strict=False):
        h["ledger_seq"] = receipt.seq
    await repo.finish_job(
        tx,
        job.id,
        {
            "status": "completed",
            "finished": now,
            "history": json.dumps(history),
            "utilities": json.dumps(utilities),
            "examples": json.dumps(examples),
            "product": product,
            "messages": json.dumps(result.get("received", [])),
        },
    )


async def _fail(
    tx: AsyncManagedTransaction, ledger: Ledger, actor: str, job_id: str, error: str
) -> None:
    if await repo.finish_job(
        tx, job_id, {"status": "failed", "finished": utc_now(), "error": error[:2000]}
    ):
        await ledger.append(
            tx, [Event("training.failed", actor, {"job": job_id, "error": error[:500]})]
        )


async def settle(
    tx: AsyncManagedTransaction, ledger: Ledger, principal: Principal, job_id: str, pool: int
) -> SettlementOut:
    """Divide a pool by the Shapley values of the job's coalition utilities."""
    job = await get(tx, job_id)
    if job.status != "completed" or job.utilities is None:
        raise Unprocessable(f"training job '{job_id}' is {job.status}, not completed")
    # Utilities were computed as floats: keep 6 decimals, exactly, in the game.
    values: dict[str, Any] = {k: f"{v:.6f}" for k, v in job.utilities.items()}
    game = GameIn(players=job.institutions, values=values)
    valuation = job.valuation if job.valuation in ("retraining", "reconstruction") else "given"
    spec = SettlementIn(game=game, pool=pool, valuation=valuation, job=job.id)
    return await settlements.settle(tx, ledger, principal, spec)
