"""``/v1/reviews``: the committee lists, claims and decides review items."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from kgservice.auth.access import Allow
from kgservice.auth.models import Principal
from kgservice.auth.roles import Role
from kgservice.deps import GraphDep, LedgerDep
from kgservice.errors import AUTH_ERRORS, Conflict, NotFound, Unprocessable, responses
from kgservice.ledger.schemas import ReceiptOut
from kgservice.reviews import service
from kgservice.reviews.schemas import DecideIn, Review, ReviewStep, Status

router = APIRouter(prefix="/v1/reviews", tags=["reviews"])
Reviewer = Annotated[Principal, Depends(Allow(Role.reviewer))]


@router.get("", responses=responses(*AUTH_ERRORS))
async def list_reviews(
    _: Annotated[Principal, Depends(Allow(Role.reviewer, Role.auditor, Role.admin))],
    graph: GraphDep,
    status: Annotated[Status | None, Query()] = None,
) -> list[Review]:
    """Review items, oldest first (at most 500), optionally by status."""
    return await graph.read(service.list_reviews, status.value if status else None)


@router.post("/{review_id}/claim", responses=responses(*AUTH_ERRORS, NotFound, Conflict))
async def claim(
    review_id: str, principal: Reviewer, graph: GraphDep, ledger: LedgerDep
) -> ReviewStep:
    """Take an open item; only its claimer may decide it (ledgered)."""
    review, receipt = await graph.write(service.claim, ledger, principal, review_id)
    return ReviewStep(review=review, receipt=ReceiptOut.of(receipt))


@router.post(
    "/{review_id}/decide", responses=responses(*AUTH_ERRORS, NotFound, Conflict, Unprocessable)
)
async def decide(
    review_id: str, spec: DecideIn, principal: Reviewer, graph: GraphDep, ledger: LedgerDep
) -> ReviewStep:
    """Uphold, reverse, or grant an exemption (a scoped, time-limited use grant), with a
    written reason (ledgered)."""
    review, receipt = await graph.write(service.decide, ledger, principal, review_id, spec)
    return ReviewStep(review=review, receipt=ReceiptOut.of(receipt))
