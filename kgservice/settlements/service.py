"""Settling a valued game into points, redeeming points, and awarding upload points.

Every unit of work is one transaction with its ledger entry: a settlement (Shapley values, the
valuation method, the points), a redemption, an upload award. Points move only by balanced
double-entry transactions: settlements and upload awards draw on an issuer account (whose
negative balance is the total ever issued), redemptions pay into the item's account.
"""

from __future__ import annotations

import json
import secrets
from fractions import Fraction

from neo4j import AsyncManagedTransaction

from kgservice.auth.models import Principal
from kgservice.auth.scope import check_scope
from kgservice.errors import Conflict, Forbidden, NotFound, Unprocessable
from kgservice.graph.database import Runner
from kgservice.ledger.canonical import Event, payload_digest, utc_now
from kgservice.ledger.schemas import ReceiptOut
from kgservice.ledger.service import Ledger
from kgservice.settlements import repository as repo
from kgservice.settlements.schemas import (
    Balance,
    CatalogueItem,
    CatalogueItemIn,
    GameIn,
    HistoryEntry,
    RedemptionIn,
    RedemptionOut,
    SettlementIn,
    SettlementOut,
    ShapleyOut,
    UploadAward,
)
from settlement.games import parse, solve
from settlement.points import AllocationError, allocate, upload_points
from settlement.shapley import GameError, Number

REMAINDER_RULE = "largest remainder; ties: larger share, then institution id"
UPLOAD_FORMULA = "floor((fields - flagged) * (0.5 + 0.5 * completeness)) + 20 * rare_conditions"
SETTLEMENT_ISSUER = "issuer:settlements"
UPLOAD_ISSUER = "issuer:uploads"


def account(institution: str) -> str:
    return f"inst:{institution}"


def shapley(game: GameIn) -> ShapleyOut:
    """Shapley values of a posted game (nothing stored)."""
    values, weighted = _solve(game)
    return ShapleyOut(
        shapley={p: str(v) for p, v in values.items()},
        decimal={p: float(v) for p, v in values.items()},
        method="weighted" if weighted else "exact",
    )


def _solve(game: GameIn) -> tuple[dict[str, Number], bool]:
    try:
        parsed, weights = parse(game.model_dump(mode="json"))
        return solve(parsed, weights), weights is not None
    except GameError as e:
        raise Unprocessable(f"game: {e}") from None


async def settle(
    tx: AsyncManagedTransaction, ledger: Ledger, principal: Principal, spec: SettlementIn
) -> SettlementOut:
    values, weighted = _solve(spec.game)
    players = list(values)
    unknown = set(players) - await repo.known_institutions(tx, players)
    if unknown:
        names = ", ".join(sorted(unknown))
        raise Unprocessable(f"players must be registered institutions: {names}")
    try:
        points = allocate(spec.pool, values)
    except AllocationError as e:
        raise Unprocessable(str(e)) from None
    settlement_id = "stl_" + secrets.token_hex(8)
    now = utc_now()
    exact = {p: str(v) if isinstance(v, Fraction) else repr(v) for p, v in values.items()}
    method = "weighted" if weighted else "exact"
    game_digest = payload_digest(spec.game.model_dump(mode="json"))
    entries = [{"account": SETTLEMENT_ISSUER, "institution": None, "amount": -spec.pool}]
    entries += [
        {"account": account(p), "institution": p, "amount": n} for p, n in points.items() if n
    ]
    await repo.post(tx, settlement_id, "settlement", settlement_id, now, entries)
    await repo.create_settlement(
        tx,
        id=settlement_id,
        job=spec.job,
        valuation=spec.valuation,
        method=method,
        pool=spec.pool,
        shapley=json.dumps(exact),
        points=json.dumps(points),
        remainder_rule=REMAINDER_RULE,
        game_digest=game_digest,
        created=now,
        by=principal.id,
    )
    event = Event(
        "settlement.made",
        principal.id,
        {
            "id": settlement_id,
            "job": spec.job,
            "valuation": spec.valuation,
            "method": method,
            "game_digest": game_digest,
            "shapley": exact,
            "pool": spec.pool,
            "points": points,
        },
    )
    (receipt,) = await ledger.append(tx, [event])
    return SettlementOut(
        id=settlement_id,
        job=spec.job,
        valuation=spec.valuation,
        method=method,
        pool=spec.pool,
        shapley=exact,
        points=points,
        remainder_rule=REMAINDER_RULE,
        created=now,
        by=principal.id,
        ledger=ReceiptOut.of(receipt),
    )


async def get_settlement(tx: Runner, settlement_id: str) -> SettlementOut:
    row = await repo.get_settlement(tx, settlement_id)
    if row is None:
        raise NotFound(f"no settlement '{settlement_id}'")
    return SettlementOut(
        id=row["id"],
        job=row.get("job"),
        valuation=row["valuation"],
        method=row["method"],
        pool=row["pool"],
        shapley=json.loads(row["shapley"]),
        points=json.loads(row["points"]),
        remainder_rule=row["remainder_rule"],
        created=row["created"],
        by=row["by"],
    )


async def add_item(
    tx: AsyncManagedTransaction, ledger: Ledger, principal: Principal, spec: CatalogueItemIn
) -> CatalogueItem:
    if spec.provider is not None and not await repo.known_institutions(tx, [spec.provider]):
        raise Unprocessable(f"provider '{spec.provider}' is not a registered institution")
    now = utc_now()
    created, row = await repo.create_item(tx, spec.model_dump(), now)
    if not created:
        raise Conflict(f"catalogue item '{spec.id}' exists")
    await ledger.append(
        tx,
        [Event("catalogue.item_added", principal.id, spec.model_dump(), institution=spec.provider)],
    )
    return CatalogueItem.model_validate(row)


async def catalogue(tx: Runner) -> list[CatalogueItem]:
    return [CatalogueItem.model_validate(r) for r in await repo.list_items(tx)]


async def redeem(
    tx: AsyncManagedTransaction, ledger: Ledger, principal: Principal, spec: RedemptionIn
) -> RedemptionOut:
    institution = spec.institution or principal.institution
    if institution is None:
        raise Unprocessable("name the institution whose points are redeemed")
    check_scope(principal, institution)
    item = await repo.get_item(tx, spec.item)
    if item is None:
        raise NotFound(f"no catalogue item '{spec.item}'")
    cost = int(item["price"]) * spec.quantity
    balance = await repo.lock_balance(tx, account(institution), institution)
    if balance < cost:
        raise Conflict(
            f"insufficient points: {spec.quantity} × {spec.item} costs {cost}, "
            f"the balance is {balance}"
        )
    redemption_id = "red_" + secrets.token_hex(8)
    now = utc_now()
    await repo.post(
        tx,
        redemption_id,
        "redemption",
        spec.item,
        now,
        [
            {"account": account(institution), "institution": institution, "amount": -cost},
            {
                "account": f"redeemed:{spec.item}",
                "institution": item.get("provider"),
                "amount": cost,
            },
        ],
    )
    await repo.create_redemption(
        tx,
        id=redemption_id,
        institution=institution,
        item=spec.item,
        quantity=spec.quantity,
        points=cost,
        created=now,
        by=principal.id,
    )
    event = Event(
        "points.redeemed",
        principal.id,
        {
            "id": redemption_id,
            "item": spec.item,
            "quantity": spec.quantity,
            "points": cost,
            "provider": item.get("provider"),
        },
        institution=institution,
    )
    (receipt,) = await ledger.append(tx, [event])
    return RedemptionOut(
        id=redemption_id,
        institution=institution,
        item=spec.item,
        quantity=spec.quantity,
        points=cost,
        balance=balance - cost,
        created=now,
        by=principal.id,
        ledger=ReceiptOut.of(receipt),
    )


def _readable(principal: Principal, institution: str) -> None:
    try:
        check_scope(principal, institution)
    except Forbidden:
        raise Forbidden("these are another institution's points") from None


async def balance(tx: Runner, principal: Principal, institution: str) -> Balance:
    _readable(principal, institution)
    totals = await repo.totals(tx, account(institution))
    return Balance(institution=institution, **totals)


async def history(
    tx: Runner, principal: Principal, institution: str, limit: int
) -> list[HistoryEntry]:
    _readable(principal, institution)
    return [
        HistoryEntry.model_validate(r) for r in await repo.history(tx, account(institution), limit)
    ]


async def award_uploads(
    tx: AsyncManagedTransaction, ledger: Ledger, principal: Principal
) -> UploadAward:
    """Points for every accepted submission not yet awarded, by the documented formula."""
    rows = await repo.unawarded(tx)
    awards = [
        {
            "ref": r["ref"],
            "institution": r["institution"],
            "points": upload_points(
                int(r["fields"]),
                int(r["flagged"]),
                float(r["completeness"]),
                int(r["rare_conditions"]),
            ),
        }
        for r in rows
    ]
    per_institution: dict[str, int] = {}
    for a in awards:
        per_institution[a["institution"]] = per_institution.get(a["institution"], 0) + a["points"]
    if not awards:
        return UploadAward(submissions=0, points={}, formula=UPLOAD_FORMULA, ledger=None)
    txn = "upl_" + secrets.token_hex(8)
    now = utc_now()
    total = sum(per_institution.values())
    entries = [{"account": UPLOAD_ISSUER, "institution": None, "amount": -total}]
    entries += [
        {"account": account(i), "institution": i, "amount": n}
        for i, n in sorted(per_institution.items())
        if n
    ]
    if total:
        await repo.post(tx, txn, "upload", txn, now, entries)
    await repo.mark_awarded(tx, txn, [{"ref": a["ref"], "points": a["points"]} for a in awards])
    event = Event(
        "points.uploads_awarded",
        principal.id,
        {
            "id": txn,
            "submissions": len(awards),
            "points": per_institution,
            "formula": UPLOAD_FORMULA,
        },
    )
    (receipt,) = await ledger.append(tx, [event])
    return UploadAward(
        submissions=len(awards),
        points=per_institution,
        formula=UPLOAD_FORMULA,
        ledger=ReceiptOut.of(receipt),
    )
