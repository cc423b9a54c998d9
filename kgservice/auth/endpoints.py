"""Principals: who am I (any role); create, list, revoke (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from kgservice.auth import service
from kgservice.auth.access import Allow
from kgservice.auth.models import Principal
from kgservice.auth.roles import Role
from kgservice.auth.schemas import PrincipalCreated, PrincipalIn, PrincipalRevoked
from kgservice.deps import GraphDep, LedgerDep, RuntimeDep
from kgservice.errors import AUTH_ERRORS, NotFound, Unprocessable, responses
from kgservice.ledger.schemas import ReceiptOut

router = APIRouter(prefix="/v1", tags=["principals"])
Admin = Annotated[Principal, Depends(Allow(Role.admin))]


@router.get("/whoami", responses=responses(*AUTH_ERRORS))
async def whoami(principal: Annotated[Principal, Depends(Allow())]) -> Principal:
    """The caller as the service sees it: role and institution scope."""
    return principal


@router.post(
    "/principals",
    status_code=status.HTTP_201_CREATED,
    responses=responses(*AUTH_ERRORS, Unprocessable),
)
async def create(
    spec: PrincipalIn, admin: Admin, graph: GraphDep, ledger: LedgerDep
) -> PrincipalCreated:
    """Create a principal; its API key is in this response only."""
    principal, key, receipt = await graph.write(service.create_principal, ledger, admin.id, spec)
    return PrincipalCreated(principal=principal, api_key=key, receipt=ReceiptOut.of(receipt))


@router.get("/principals", responses=responses(*AUTH_ERRORS))
async def list_principals(_: Admin, graph: GraphDep) -> list[Principal]:
    return await graph.read(service.list_principals)


@router.delete("/principals/{principal_id}", responses=responses(*AUTH_ERRORS, NotFound))
async def revoke(
    principal_id: str, admin: Admin, graph: GraphDep, ledger: LedgerDep, runtime: RuntimeDep
) -> PrincipalRevoked:
    """Revoke a principal's key at once (ledgered)."""
    principal, receipt = await graph.write(service.revoke_principal, ledger, admin.id, principal_id)
    # Endpoints that remember keys check the principal in their own transaction anyway (and
    # other processes' memories are not reached from here); this only spares the check.
    runtime.seen_keys.forget(principal.id)
    return PrincipalRevoked(principal=principal, receipt=ReceiptOut.of(receipt))
