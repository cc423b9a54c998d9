"""Recording and revoking consents (ledgered). A consent belongs to the institution that
collected it (its holder); only that institution's systems record or revoke it."""

from __future__ import annotations

import secrets

from neo4j import AsyncManagedTransaction

from ingest.normalise import phone, resident_id
from kgservice.auth.models import Principal
from kgservice.auth.scope import check_scope
from kgservice.consents import repository as repo
from kgservice.consents.schemas import Consent, ConsentIn
from kgservice.errors import NotFound
from kgservice.ledger.canonical import Event, utc_now, utc_text
from kgservice.ledger.service import Ledger, Receipt
from kgservice.records.protection import Protector


def patient_pseudonym(protector: Protector, spec: ConsentIn) -> str:
    p = spec.patient
    if p.pseudonym is not None:
        return p.pseudonym
    if p.kind is None or p.value is None:
        raise ValueError("a patient needs a pseudonym or an identifier")
    # The same normalised forms and keys as ingest, so consent and records name one patient.
    value = {"ResidentId": resident_id, "PhoneNumber": phone}.get(p.kind, str.strip)(p.value)
    return protector.pseudonym(p.kind, value)


async def record(
    tx: AsyncManagedTransaction,
    ledger: Ledger,
    protector: Protector,
    principal: Principal,
    holder: str,
    spec: ConsentIn,
) -> tuple[Consent, Receipt]:
    row = await repo.create(
        tx,
        id="cns_" + secrets.token_hex(8),
        holder=holder,
        patient=patient_pseudonym(protector, spec),
        purposes=[p.value for p in spec.purposes],
        categories=[c.value for c in spec.categories],
        separate=spec.separate,
        valid_from=utc_text(spec.valid_from),
        valid_until=utc_text(spec.valid_until) if spec.valid_until else None,
        created=utc_now(),
    )
    consent = Consent.model_validate(row)
    event = Event(
        "consent.recorded", principal.id, consent.model_dump(mode="json"), institution=holder
    )
    (receipt,) = await ledger.append(tx, [event])
    return consent, receipt


async def revoke(
    tx: AsyncManagedTransaction, ledger: Ledger, principal: Principal, consent_id: str
) -> tuple[Consent, Receipt]:
    found = await repo.get(tx, consent_id)
    if found is None:
        raise NotFound(f"no consent '{consent_id}'")
    check_scope(principal, found["holder"])
    row = await repo.revoke(tx, consent_id, utc_now())
    if row is None:
        raise NotFound(f"consent '{consent_id}' is already revoked")
    consent = Consent.model_validate(row)
    event = Event("consent.revoked", principal.id, {"id": consent_id}, institution=consent.holder)
    (receipt,) = await ledger.append(tx, [event])
    return consent, receipt
