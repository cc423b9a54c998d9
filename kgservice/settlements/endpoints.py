"""Settlements, the catalogue, redemptions and points balances.

``POST /v1/settlements/shapley`` computes and stores nothing, so every role may use it to check a
game; settling into points and keeping the catalogue are the operator's (or an admin's);
institutions redeem their own points; balances are visible to the institution itself and to
alliance-wide roles.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from kgservice.auth.access import Allow
from kgservice.auth.models import Principal
from kgservice.auth.roles import Role
from kgservice.deps import GraphDep, LedgerDep
from kgservice.errors import AUTH_ERRORS, Conflict, NotFound, Unprocessable, responses
from kgservice.settlements import service
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

router = APIRouter(tags=["settlements"])
Anyone = Annotated[Principal, Depends(Allow())]
Operator = Annotated[Principal, Depends(Allow(Role.operator, Role.admin))]
Redeemer = Annotated[Principal, Depends(Allow(Role.institution_system, Role.requester))]


@router.post("/v1/settlements/shapley", responses=responses(*AUTH_ERRORS, Unprocessable))
async def shapley(game: GameIn, _: Anyone) -> ShapleyOut:
    """Shapley values of a game, exact fractions when the values are rational. Stores nothing."""
    return service.shapley(game)


@router.post(
    "/v1/settlements",
    status_code=status.HTTP_201_CREATED,
    responses=responses(*AUTH_ERRORS, Unprocessable),
)
async def settle(
    spec: SettlementIn, principal: Operator, graph: GraphDep, ledger: LedgerDep
) -> SettlementOut:
    """Divide a pool of points by the institutions' Shapley values (ledgered, with how the
    coalition utilities were obtained)."""
    return await graph.write(service.settle, ledger, principal, spec)


@router.get("/v1/settlements/{settlement_id}", responses=responses(*AUTH_ERRORS, NotFound))
async def get_settlement(settlement_id: str, _: Anyone, graph: GraphDep) -> SettlementOut:
    """A settlement: every institution's Shapley value and points (public within the alliance)."""
    return await graph.read(service.get_settlement, settlement_id)


@router.post("/v1/settlements/uploads", responses=responses(*AUTH_ERRORS))
async def award_uploads(principal: Operator, graph: GraphDep, ledger: LedgerDep) -> UploadAward:
    """Award upload points for every accepted submission not yet awarded (documented formula)."""
    return await graph.write(service.award_uploads, ledger, principal)


@router.get("/v1/catalogue", responses=responses(*AUTH_ERRORS))
async def catalogue(_: Anyone, graph: GraphDep) -> list[CatalogueItem]:
    """What points buy: consultation quotas, AI-tool access, ..."""
    return await graph.read(service.catalogue)


@router.post(
    "/v1/catalogue",
    status_code=status.HTTP_201_CREATED,
    responses=responses(*AUTH_ERRORS, Conflict, Unprocessable),
)
async def add_item(
    spec: CatalogueItemIn, principal: Operator, graph: GraphDep, ledger: LedgerDep
) -> CatalogueItem:
    """Add an item to the catalogue (ledgered)."""
    return await graph.write(service.add_item, ledger, principal, spec)


@router.post(
    "/v1/redemptions",
    status_code=status.HTTP_201_CREATED,
    responses=responses(*AUTH_ERRORS, NotFound, Conflict, Unprocessable),
)
async def redeem(
    spec: RedemptionIn, principal: Redeemer, graph: GraphDep, ledger: LedgerDep
) -> RedemptionOut:
    """Spend the caller's institution's points on a catalogue item; 409 if the balance is short."""
    return await graph.write(service.redeem, ledger, principal, spec)


@router.get("/v1/points/{institution}", responses=responses(*AUTH_ERRORS))
async def balance(institution: str, principal: Anyone, graph: GraphDep) -> Balance:
    """An institution's balance, points earned and points spent."""
    return await graph.read(service.balance, principal, institution)


@router.get("/v1/points/{institution}/history", responses=responses(*AUTH_ERRORS))
async def history(
    institution: str,
    principal: Anyone,
    graph: GraphDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[HistoryEntry]:
    """An institution's points movements, newest first."""
    return await graph.read(service.history, principal, institution, limit)
