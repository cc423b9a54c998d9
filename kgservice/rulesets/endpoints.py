"""``/v1/rulesets``: stewards upload red-line rule sets; a steward and a reviewer activate them."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Request, status

from kgservice.auth.access import Allow
from kgservice.auth.models import Principal
from kgservice.auth.roles import Role
from kgservice.deps import GraphDep, LedgerDep, RuntimeDep
from kgservice.errors import AUTH_ERRORS, BadRequest, Conflict, NotFound, Unprocessable, responses
from kgservice.ledger.schemas import ReceiptOut
from kgservice.rulesets import service
from kgservice.rulesets.schemas import Approved, Uploaded

router = APIRouter(prefix="/v1/rulesets", tags=["rulesets"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=responses(*AUTH_ERRORS, BadRequest, Unprocessable, Conflict),
)
async def upload(
    request: Request,
    principal: Annotated[Principal, Depends(Allow(Role.steward))],
    runtime: RuntimeDep,
    graph: GraphDep,
    ledger: LedgerDep,
) -> Uploaded:
    """Upload red lines as Turtle (the body). Answers with every past decision whose verdict or
    broken rules would change under them. Nothing changes until a steward and a reviewer approve."""
    text = (await request.body()).decode("utf-8", errors="replace")
    if not text.strip():
        raise BadRequest("the body must be the rule set in Turtle")
    candidate = await anyio.to_thread.run_sync(service.check_text, text)
    ruleset, replayed, changes, receipt = await graph.write(
        service.upload, ledger, runtime.decisions, principal, candidate
    )
    return Uploaded(
        ruleset=ruleset, replayed=replayed, changes=changes, receipt=ReceiptOut.of(receipt)
    )


@router.post("/{ruleset_hash}/approve", responses=responses(*AUTH_ERRORS, NotFound, Conflict))
async def approve(
    ruleset_hash: str,
    principal: Annotated[Principal, Depends(Allow(Role.steward, Role.reviewer))],
    graph: GraphDep,
    ledger: LedgerDep,
) -> Approved:
    """Approve a candidate; with a steward's and a reviewer's approval it becomes active."""
    ruleset, receipt = await graph.write(service.approve, ledger, principal, ruleset_hash)
    return Approved(ruleset=ruleset, receipt=ReceiptOut.of(receipt))
