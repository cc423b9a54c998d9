"""Granting and revoking use and operation rights (ledgered). The holder grants: its own
institution systems, or an admin for the alliance."""

from __future__ import annotations

import secrets

from neo4j import AsyncManagedTransaction

from kgservice.auth.models import Principal
from kgservice.auth.scope import check_scope
from kgservice.errors import NotFound, Unprocessable
from kgservice.grants import repository as repo
from kgservice.grants.schemas import Grant, GrantIn
from kgservice.ledger.canonical import Event, utc_now, utc_text
from kgservice.ledger.service import Ledger, Receipt


async def grant(
    tx: AsyncManagedTransaction, ledger: Ledger, principal: Principal, spec: GrantIn
) -> tuple[Grant, Receipt]:
    check_scope(principal, spec.holder)
    row = await repo.create(
        tx,
        id="grt_" + secrets.token_hex(8),
        right=spec.right.value,
        holder=spec.holder,
        grantee=spec.grantee,
        purposes=[p.value for p in spec.purposes],
        categories=[c.value for c in spec.categories],
        max_level=spec.max_level,
        product=spec.product,
        valid_from=utc_text(spec.valid_from),
        valid_until=utc_text(spec.valid_until) if spec.valid_until else None,
        granted_by=principal.id,
        created=utc_now(),
    )
    if row is None:
        raise Unprocessable(f"holder '{spec.holder}' is not a registered institution")
    g = Grant.model_validate(row)
    event = Event("grant.made", principal.id, g.model_dump(mode="json"), institution=g.holder)
    (receipt,) = await ledger.append(tx, [event])
    return g, receipt


async def revoke(
    tx: AsyncManagedTransaction, ledger: Ledger, principal: Principal, grant_id: str
) -> tuple[Grant, Receipt]:
    found = await repo.get(tx, grant_id)
    if found is None:
        raise NotFound(f"no grant '{grant_id}'")
    check_scope(principal, found["holder"])
    row = await repo.revoke(tx, grant_id, utc_now())
    if row is None:
        raise NotFound(f"grant '{grant_id}' is already revoked")
    g = Grant.model_validate(row)
    event = Event("grant.revoked", principal.id, {"id": grant_id}, institution=g.holder)
    (receipt,) = await ledger.append(tx, [event])
    return g, receipt


async def list_grants(tx: AsyncManagedTransaction, principal: Principal) -> list[Grant]:
    """Grants an institution gave or holds; alliance-wide principals see all."""
    return [Grant.model_validate(r) for r in await repo.list_for(tx, principal.institution)]
