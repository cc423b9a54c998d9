"""Creating, revoking and authenticating principals. Every change is ledgered."""

from __future__ import annotations

import secrets

from neo4j import AsyncManagedTransaction

from kgservice.auth import keys
from kgservice.auth import repository as repo
from kgservice.auth.models import Principal
from kgservice.auth.schemas import PrincipalIn
from kgservice.errors import NotFound, Unprocessable
from kgservice.graph.database import Runner
from kgservice.institutions import repository as institutions
from kgservice.ledger.canonical import Event, utc_now
from kgservice.ledger.service import Ledger, Receipt


async def create_principal(
    tx: AsyncManagedTransaction, ledger: Ledger, actor: str, spec: PrincipalIn
) -> tuple[Principal, str, Receipt]:
    """Create a principal and its API key; the key is returned once and never stored."""
    if spec.institution is not None and await institutions.get(tx, spec.institution) is None:
        raise Unprocessable(f"institution '{spec.institution}' is not registered")
    key = keys.new_key()
    row = await repo.create(
        tx,
        id="prn_" + secrets.token_hex(8),
        name=spec.name,
        role=spec.role.value,
        institution=spec.institution,
        key_id=key.key_id,
        key_hash=key.key_hash,
        created=utc_now(),
    )
    principal = Principal.model_validate(row)
    event = Event(
        "principal.created",
        actor,
        {
            "id": principal.id,
            "name": principal.name,
            "role": principal.role.value,
            "key_id": key.key_id,
        },
        institution=principal.institution,
    )
    (receipt,) = await ledger.append(tx, [event])
    return principal, key.key, receipt


async def revoke_principal(
    tx: AsyncManagedTransaction, ledger: Ledger, actor: str, principal_id: str
) -> tuple[Principal, Receipt]:
    row = await repo.revoke(tx, principal_id, utc_now())
    if row is None:
        raise NotFound(f"no active principal '{principal_id}'")
    principal = Principal.model_validate(row)
    event = Event(
        "principal.revoked", actor, {"id": principal.id}, institution=principal.institution
    )
    (receipt,) = await ledger.append(tx, [event])
    return principal, receipt


async def authenticate(tx: Runner, key: str) -> Principal | None:
    """The active principal holding ``key``, or None."""
    (principal,) = await authenticate_many(tx, [key])
    return principal


async def authenticate_many(tx: Runner, presented: list[str]) -> list[Principal | None]:
    """For each presented key, in order, the active principal holding it, or None: one query
    for all (the service batches concurrent requests' keys, kgservice/auth/access.py)."""
    key_ids = [keys.parse_key_id(key) for key in presented]
    wanted = sorted({k for k in key_ids if k is not None})
    found = await repo.by_key_ids(tx, wanted) if wanted else {}
    out: list[Principal | None] = []
    for key, key_id in zip(presented, key_ids, strict=True):
        match = found.get(key_id) if key_id is not None else None
        ok = match is not None and keys.matches(key, match[0])
        out.append(Principal.model_validate(match[1]) if match is not None and ok else None)
    return out


async def list_principals(tx: AsyncManagedTransaction) -> list[Principal]:
    return [Principal.model_validate(r) for r in await repo.list_all(tx)]
