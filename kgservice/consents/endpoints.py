"""``POST /v1/consents`` and ``DELETE /v1/consents/{id}`` (the holding institution's systems)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from kgservice.auth.access import Allow
from kgservice.auth.models import Principal
from kgservice.auth.roles import Role
from kgservice.auth.scope import bound_institution
from kgservice.consents import service
from kgservice.consents.schemas import ConsentIn, ConsentRecorded
from kgservice.deps import GraphDep, LedgerDep, RuntimeDep
from kgservice.errors import AUTH_ERRORS, NotFound, responses
from kgservice.ledger.schemas import ReceiptOut

router = APIRouter(prefix="/v1/consents", tags=["consents"])
System = Annotated[Principal, Depends(Allow(Role.institution_system))]


@router.post("", status_code=status.HTTP_201_CREATED, responses=responses(*AUTH_ERRORS))
async def record(
    spec: ConsentIn, principal: System, runtime: RuntimeDep, graph: GraphDep, ledger: LedgerDep
) -> ConsentRecorded:
    """Record a patient's consent collected by the caller's institution (ledgered)."""
    institution = bound_institution(principal)
    consent, receipt = await graph.write(
        service.record, ledger, runtime.protector, principal, institution, spec
    )
    return ConsentRecorded(consent=consent, receipt=ReceiptOut.of(receipt))


@router.delete("/{consent_id}", responses=responses(*AUTH_ERRORS, NotFound))
async def revoke(
    consent_id: str, principal: System, graph: GraphDep, ledger: LedgerDep
) -> ConsentRecorded:
    """Revoke a consent at once: decisions from now on no longer count it (ledgered)."""
    consent, receipt = await graph.write(service.revoke, ledger, principal, consent_id)
    return ConsentRecorded(consent=consent, receipt=ReceiptOut.of(receipt))
