"""Registering institutions (ledgered)."""

from __future__ import annotations

from neo4j import AsyncManagedTransaction
from neo4j.exceptions import ConstraintError

from kgservice.errors import Conflict
from kgservice.institutions import repository as repo
from kgservice.institutions.schemas import Institution, InstitutionIn
from kgservice.ledger.canonical import Event, utc_now
from kgservice.ledger.service import Ledger, Receipt


async def register(
    tx: AsyncManagedTransaction, ledger: Ledger, actor: str, spec: InstitutionIn
) -> tuple[Institution, Receipt]:
    if await repo.get(tx, spec.id) is not None:
        raise Conflict(f"institution '{spec.id}' already exists")
    try:
        row = await repo.create(tx, **spec.model_dump(mode="json"), created=utc_now())
    except ConstraintError as e:
        raise Conflict(f"institution '{spec.id}' already exists") from e
    event = Event(
        "institution.registered",
        actor,
        {"id": spec.id, "name": spec.name, "tier": spec.tier.value},
        institution=spec.id,
    )
    (receipt,) = await ledger.append(tx, [event])
    return Institution.model_validate(row), receipt


async def list_institutions(tx: AsyncManagedTransaction) -> list[Institution]:
    return [Institution.model_validate(r) for r in await repo.list_all(tx)]
