"""Ledger read endpoints: checkpoint, entries with inclusion proofs, consistency proofs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from kgservice.auth.access import Allow
from kgservice.auth.models import Principal
from kgservice.auth.scope import check_scope
from kgservice.deps import GraphDep, LedgerDep
from kgservice.errors import AUTH_ERRORS, BadRequest, NotFound, responses
from kgservice.ledger.schemas import (
    CheckpointOut,
    ConsistencyOut,
    ProvenEntryOut,
    SignedCheckpointOut,
)
from kgservice.ledger.service import LedgerDamaged

router = APIRouter(prefix="/v1/ledger", tags=["ledger"])
AnyPrincipal = Annotated[Principal, Depends(Allow())]


@router.get("/checkpoint", responses=responses(*AUTH_ERRORS))
async def checkpoint(_: AnyPrincipal, graph: GraphDep, ledger: LedgerDep) -> SignedCheckpointOut:
    """The latest signed tree head and the public key that verifies it. Keep a copy."""
    latest = await graph.read(ledger.checkpoint)
    return SignedCheckpointOut(
        checkpoint=None if latest is None else CheckpointOut.of(latest),
        public_key=ledger.signer.public_b64,
    )


@router.get("/entries/{seq}", responses=responses(*AUTH_ERRORS, NotFound, LedgerDamaged))
async def entry(
    principal: AnyPrincipal,
    graph: GraphDep,
    ledger: LedgerDep,
    seq: Annotated[int, Path(ge=0)],
) -> ProvenEntryOut:
    """One entry with its inclusion proof against the latest checkpoint.

    Entries about one institution are visible to that institution's principals and to
    alliance-wide ones only."""
    proven = await graph.read_autocommit(ledger.prove_entry, seq)
    check_scope(principal, proven.entry.institution)
    return ProvenEntryOut.of(proven)


@router.get("/consistency", responses=responses(*AUTH_ERRORS, BadRequest, NotFound, LedgerDamaged))
async def consistency(
    _: AnyPrincipal,
    graph: GraphDep,
    ledger: LedgerDep,
    from_size: Annotated[int, Query(alias="from", ge=0)],
    to_size: Annotated[int | None, Query(alias="to", ge=0)] = None,
) -> ConsistencyOut:
    """Proof that the log at size `to` (default: now) extends the log at size `from`."""
    proof = await graph.read_autocommit(ledger.prove_consistency, from_size, to_size)
    size = proof.new.size if proof.new is not None else 0
    return ConsistencyOut.of(from_size, size, proof)
