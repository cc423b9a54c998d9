"""``/v1/grants``: use and operation rights (三权分置), granted and revoked by the holder."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from kgservice.auth.access import Allow
from kgservice.auth.models import Principal
from kgservice.auth.roles import Role
from kgservice.deps import GraphDep, LedgerDep
from kgservice.errors import AUTH_ERRORS, NotFound, Unprocessable, responses
from kgservice.grants import service
from kgservice.grants.schemas import Grant, GrantIn, GrantRecorded
from kgservice.ledger.schemas import ReceiptOut

router = APIRouter(prefix="/v1/grants", tags=["grants"])
Granter = Annotated[Principal, Depends(Allow(Role.institution_system, Role.admin))]


@router.post(
    "", status_code=status.HTTP_201_CREATED, responses=responses(*AUTH_ERRORS, Unprocessable)
)
async def grant(
    spec: GrantIn, principal: Granter, graph: GraphDep, ledger: LedgerDep
) -> GrantRecorded:
    """Grant a use or operation right over the holder's data (ledgered)."""
    g, receipt = await graph.write(service.grant, ledger, principal, spec)
    return GrantRecorded(grant=g, receipt=ReceiptOut.of(receipt))


@router.delete("/{grant_id}", responses=responses(*AUTH_ERRORS, NotFound))
async def revoke(
    grant_id: str, principal: Granter, graph: GraphDep, ledger: LedgerDep
) -> GrantRecorded:
    """Revoke a grant at once (ledgered)."""
    g, receipt = await graph.write(service.revoke, ledger, principal, grant_id)
    return GrantRecorded(grant=g, receipt=ReceiptOut.of(receipt))


@router.get("", responses=responses(*AUTH_ERRORS))
async def list_grants(
    principal: Annotated[Principal, Depends(Allow())], graph: GraphDep
) -> list[Grant]:
    """Grants of the caller's institution (all of them for alliance-wide principals)."""
    return await graph.read(service.list_grants, principal)
