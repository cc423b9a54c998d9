"""The committee's queue: items opened by review verdicts and break-glass overrides, claimed by
one reviewer, decided with a written reason. Every step is ledgered; an exemption becomes a use
grant scoped to the request and limited in time."""

from __future__ import annotations

import secrets

from neo4j import AsyncManagedTransaction

from kgservice.auth.models import Principal
from kgservice.auth.scope import check_scope
from kgservice.decisions.schemas import DecisionIn
from kgservice.errors import Conflict, NotFound, Unprocessable
from kgservice.grants import repository as grants
from kgservice.ledger.canonical import Event, utc_now, utc_text
from kgservice.ledger.repository import Write
from kgservice.ledger.service import Ledger, Receipt
from kgservice.reviews import repository as repo
from kgservice.reviews.schemas import DecideIn, Outcome, Review


def new_id() -> str:
    return "rev_" + secrets.token_hex(8)


def opened_event(review_id: str, decision_id: str, kind: str, actor: str, holder: str) -> Event:
    return Event(
        "review.opened",
        actor,
        {"id": review_id, "decision": decision_id, "kind": kind},
        institution=holder,
    )


def opened_row(
    review_id: str,
    decision_id: str,
    kind: str,
    holder: str,
    requester: str,
    rules: list[str],
    created: str,
) -> dict[str, object]:
    """An open review item as ``opening`` stores it."""
    return {
        "id": review_id,
        "decision": decision_id,
        "kind": kind,
        "holder": holder,
        "requester": requester,
        "rules": rules,
        "created": created,
    }


def opening(rows: list[dict[str, object]]) -> Write:
    """The write opening review items (rows from ``opened_row``), each about a decision created
    earlier in the same statement or transaction: made with the ledger append (Ledger.append)."""
    return repo.CREATE_MANY, {"reviews": rows}


async def list_reviews(tx: AsyncManagedTransaction, status: str | None) -> list[Review]:
    return [Review.model_validate(r) for r in await repo.list_reviews(tx, status)]


async def _existing(tx: AsyncManagedTransaction, principal: Principal, review_id: str) -> Review:
    found = await repo.get(tx, review_id)
    if found is None:
        raise NotFound(f"no review '{review_id}'")
    review = Review.model_validate(found)
    check_scope(principal, review.holder)
    return review


async def claim(
    tx: AsyncManagedTransaction, ledger: Ledger, principal: Principal, review_id: str
) -> tuple[Review, Receipt]:
    current = await _existing(tx, principal, review_id)
    row = await repo.claim(tx, review_id, principal.id, utc_now())
    if row is None:
        raise Conflict(f"review '{review_id}' is {current.status.value}, not open")
    review = Review.model_validate(row)
    (receipt,) = await ledger.append(
        tx, [Event("review.claimed", principal.id, {"id": review_id}, institution=review.holder)]
    )
    return review, receipt


async def decide(
    tx: AsyncManagedTransaction,
    ledger: Ledger,
    principal: Principal,
    review_id: str,
    spec: DecideIn,
) -> tuple[Review, Receipt]:
    current = await _existing(tx, principal, review_id)
    if current.status.value != "claimed" or current.claimed_by != principal.id:
        raise Conflict(f"review '{review_id}' must be claimed by you before you decide it")
    now = utc_now()
    grant_id = None
    if spec.outcome is Outcome.exemption and spec.exemption_until is not None:
        grant_id = await _exemption(tx, principal, current, now, utc_text(spec.exemption_until))
    row = await repo.decide(
        tx,
        id=review_id,
        by=principal.id,
        time=now,
        outcome=spec.outcome.value,
        reason=spec.reason,
        grant=grant_id,
    )
    if row is None:
        raise Conflict(f"review '{review_id}' changed while you decided it")
    review = Review.model_validate(row)
    event = Event(
        "review.decided",
        principal.id,
        {"id": review_id, "outcome": spec.outcome.value, "reason": spec.reason, "grant": grant_id},
        institution=review.holder,
    )
    (receipt,) = await ledger.append(tx, [event])
    return review, receipt


async def _exemption(
    tx: AsyncManagedTransaction, principal: Principal, review: Review, now: str, until: str
) -> str:
    """A use grant covering exactly what the reviewed request asked, until ``until``."""
    request_json, _ = await repo.decision_request(tx, review.decision)
    request = DecisionIn.model_validate_json(request_json)
    user = await repo.decision_user(tx, review.decision)
    if request.purpose is None or until <= now:
        raise Unprocessable("an exemption needs a request with a purpose and an end in the future")
    grant_id = "grt_" + secrets.token_hex(8)
    await grants.create(
        tx,
        id=grant_id,
        right="use",
        holder=request.holder,
        grantee=user,
        purposes=[request.purpose.value],
        categories=[c.value for c in request.categories],
        max_level=request.max_level,
        product=None,
        valid_from=now,
        valid_until=until,
        granted_by=principal.id,
        created=now,
    )
    return grant_id
