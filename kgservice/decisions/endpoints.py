"""``POST /v1/decisions``: ask whether data may be accessed, exported, shared or trained on."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from kgservice.auth.access import AllowRechecked
from kgservice.auth.models import Principal
from kgservice.auth.roles import Role
from kgservice.decisions.schemas import DecisionIn, DecisionOut
from kgservice.deps import RuntimeDep
from kgservice.errors import AUTH_ERRORS, NotAuthenticated, Unprocessable, responses

router = APIRouter(prefix="/v1/decisions", tags=["decisions"])
Asker = Annotated[
    Principal,
    Depends(AllowRechecked(Role.requester, Role.institution_system, Role.operator, Role.admin)),
]


@router.post("", responses=responses(*AUTH_ERRORS, Unprocessable))
async def decide(request: DecisionIn, principal: Asker, runtime: RuntimeDep) -> DecisionOut:
    """Check a request against the red lines and record the decision on the ledger.

    ``deny`` lists every broken red line with its article and the offending values; ``review``
    goes to the committee; ``permit`` may carry obligations (de-identify first)."""
    # The graph is known to be ready: authentication depends on it.
    try:
        return await runtime.decisions.decide(principal, request)
    except NotAuthenticated:
        runtime.seen_keys.forget(principal.id)  # revoked: its key is looked up again next time
        raise
