"""Authentication and the role check as FastAPI dependencies: where endpoints meet the checks.

Endpoints declare ``Depends(Allow(Role.x, ...))`` (or ``AllowRechecked`` when their unit of
work confirms the principal is still active). The checks themselves are pure functions in
kgservice/auth/scope.py, which services use for institution scope without depending on the
request machinery of this module.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from kgservice.auth.models import Principal
from kgservice.auth.roles import ALL_ROLES, Role
from kgservice.auth.scope import check_role
from kgservice.deps import GraphDep, RuntimeDep
from kgservice.errors import NotAuthenticated


def _presented_key(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        return value.strip() if scheme.lower() == "bearer" and value.strip() else None
    return request.headers.get("x-api-key")


async def authenticate(request: Request, runtime: RuntimeDep, _: GraphDep) -> Principal:
    key = _presented_key(request)
    if key is None:
        raise NotAuthenticated("send an API key: 'Authorization: Bearer <key>' or 'X-API-Key'")
    # Looked up at every request, never cached, so a revoked key stops working at once (the one
    # exception, ``AllowRechecked``, confirms the principal in the endpoint's transaction). The
    # keys of concurrent requests are looked up together, in one auto-commit query
    # (kgservice/graph/grouping.py): under a burst, one query instead of one connection each.
    principal = await runtime.principals.submit(key)
    if principal is None:
        raise NotAuthenticated("the API key is not valid or was revoked")
    return principal


async def authenticate_rechecked(
    request: Request, runtime: RuntimeDep, graph: GraphDep
) -> Principal:
    """``authenticate``, without the lookup for a key that authenticated before: for endpoints
    whose unit of work confirms the principal is active in its own transaction (kgservice/auth/
    seen.py). Saves a round trip and ~0.5 ms of CPU per decision (docs/performance.md)."""
    key = _presented_key(request)
    if key is None:
        return await authenticate(request, runtime, graph)  # which says what to send
    seen = runtime.seen_keys.get(key)
    if seen is not None:
        return seen
    principal = await authenticate(request, runtime, graph)
    runtime.seen_keys.remember(key, principal)
    return principal


class Allow:
    """Dependency: the authenticated caller, if its role is one of ``roles`` (default: any)."""

    def __init__(self, *roles: Role) -> None:
        self.roles = frozenset(roles) or ALL_ROLES

    async def __call__(self, principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        return check_role(principal, self.roles)


class AllowRechecked(Allow):
    """``Allow`` for an endpoint whose unit of work refuses, in its own transaction, a principal
    that is no longer active (401, nothing written): decisions (``principal_active`` in
    kgservice/decisions/repository.py). The role check is the same."""

    async def __call__(
        self, principal: Annotated[Principal, Depends(authenticate_rechecked)]
    ) -> Principal:
        return check_role(principal, self.roles)
