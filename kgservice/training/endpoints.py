"""``/v1/training-jobs``: federated training behind a compliance decision, and its settlement."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, status

from kgservice.auth.access import Allow
from kgservice.auth.models import Principal
from kgservice.auth.roles import Role
from kgservice.deps import GraphDep, LedgerDep, RuntimeDep
from kgservice.errors import AUTH_ERRORS, NotFound, Unprocessable, responses
from kgservice.settlements.schemas import SettlementOut
from kgservice.training import service
from kgservice.training.schemas import TrainingJobIn, TrainingJobOut, TrainingSettlementIn

router = APIRouter(prefix="/v1/training-jobs", tags=["training"])
Operator = Annotated[Principal, Depends(Allow(Role.operator, Role.admin))]
Watcher = Annotated[Principal, Depends(Allow(Role.operator, Role.admin, Role.auditor))]


@router.post(
    "", status_code=status.HTTP_202_ACCEPTED, responses=responses(*AUTH_ERRORS, Unprocessable)
)
async def start(
    spec: TrainingJobIn,
    principal: Operator,
    runtime: RuntimeDep,
    graph: GraphDep,
    ledger: LedgerDep,
) -> TrainingJobOut:
    """Start a federated training job: a `training` decision per institution first (422 with
    the reasons if any is not permitted), then Flower runs in the background; poll the job."""
    job = await service.start(
        graph, ledger, runtime.decisions, runtime.settings.training, principal, spec
    )
    task = asyncio.create_task(
        service.run(
            graph,
            ledger,
            runtime.settings.training,
            principal.id,
            job.id,
            spec.held_out,
            runtime.stopping,
            runtime.protector,
        )
    )
    runtime.background.add(task)  # kept referenced until done
    task.add_done_callback(runtime.background.discard)
    return job


@router.get("/{job_id}", responses=responses(*AUTH_ERRORS, NotFound))
async def get(job_id: str, _: Watcher, graph: GraphDep) -> TrainingJobOut:
    """Status, per-round accuracy with ledger entries, coalition utilities, the model's id."""
    return await graph.read(service.get, job_id)


@router.post(
    "/{job_id}/settlement",
    status_code=status.HTTP_201_CREATED,
    responses=responses(*AUTH_ERRORS, NotFound, Unprocessable),
)
async def settle(
    job_id: str, spec: TrainingSettlementIn, principal: Operator, graph: GraphDep, ledger: LedgerDep
) -> SettlementOut:
    """Pay the participants by their Shapley values over the job's coalition utilities."""
    return await graph.write(service.settle, ledger, principal, job_id, spec.pool)
