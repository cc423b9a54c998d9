"""Institutions: list (any role), register (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel

from kgservice.auth.access import Allow
from kgservice.auth.models import Principal
from kgservice.auth.roles import Role
from kgservice.deps import GraphDep, LedgerDep
from kgservice.errors import AUTH_ERRORS, Conflict, responses
from kgservice.institutions import service
from kgservice.institutions.schemas import Institution, InstitutionIn
from kgservice.ledger.schemas import ReceiptOut

router = APIRouter(prefix="/v1/institutions", tags=["institutions"])


class InstitutionRegistered(BaseModel):
    institution: Institution
    receipt: ReceiptOut


@router.get("", responses=responses(*AUTH_ERRORS))
async def list_institutions(
    _: Annotated[Principal, Depends(Allow())], graph: GraphDep
) -> list[Institution]:
    """The alliance's members (names and tiers are level-1 public data)."""
    return await graph.read(service.list_institutions)


@router.post("", status_code=status.HTTP_201_CREATED, responses=responses(*AUTH_ERRORS, Conflict))
async def register(
    spec: InstitutionIn,
    admin: Annotated[Principal, Depends(Allow(Role.admin))],
    graph: GraphDep,
    ledger: LedgerDep,
) -> InstitutionRegistered:
    institution, receipt = await graph.write(service.register, ledger, admin.id, spec)
    return InstitutionRegistered(institution=institution, receipt=ReceiptOut.of(receipt))
