"""Ledger I/O models. Hashes are lowercase hex; signatures and public keys are base64."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from kgservice.ledger.service import Consistency, ProvenEntry, Receipt
from kgservice.ledger.signing import Checkpoint, b64


class CheckpointOut(BaseModel):
    origin: str
    size: int
    root: str = Field(description="RFC 9162 root hash of the first `size` entries, hex")
    time: str
    key_id: str
    signature: str = Field(description="Ed25519 over the RFC 8785 JSON of origin, size, root, time")

    @classmethod
    def of(cls, c: Checkpoint) -> CheckpointOut:
        return cls(
            origin=c.origin,
            size=c.size,
            root=c.root.hex(),
            time=c.time,
            key_id=c.key_id,
            signature=b64(c.signature),
        )


class SignedCheckpointOut(BaseModel):
    checkpoint: CheckpointOut | None = Field(description="null while the ledger is empty")
    public_key: str = Field(description="the ledger's Ed25519 public key, raw, base64")


class ReceiptOut(BaseModel):
    seq: int
    leaf_hash: str
    checkpoint: CheckpointOut
    inclusion_proof: list[str] = Field(description="audit path against `checkpoint`, hex")

    @classmethod
    def of(cls, r: Receipt) -> ReceiptOut:
        return cls(
            seq=r.seq,
            leaf_hash=r.leaf_hash.hex(),
            checkpoint=CheckpointOut.of(r.checkpoint),
            inclusion_proof=[h.hex() for h in r.inclusion_proof],
        )


class EntryOut(BaseModel):
    seq: int
    type: str
    actor: str
    institution: str | None
    time: str
    payload: dict[str, Any]
    payload_digest: str


class ProvenEntryOut(BaseModel):
    entry: EntryOut = Field(description="leaf data = RFC 8785 JSON of this object")
    leaf_hash: str
    checkpoint: CheckpointOut
    inclusion_proof: list[str]

    @classmethod
    def of(cls, p: ProvenEntry) -> ProvenEntryOut:
        return cls(
            entry=EntryOut.model_validate(p.entry.as_json()),
            leaf_hash=p.leaf_hash.hex(),
            checkpoint=CheckpointOut.of(p.checkpoint),
            inclusion_proof=[h.hex() for h in p.inclusion_proof],
        )


class ConsistencyOut(BaseModel):
    from_size: int
    to_size: int
    from_checkpoint: CheckpointOut | None
    to_checkpoint: CheckpointOut | None
    proof: list[str]

    @classmethod
    def of(cls, old: int, new: int, c: Consistency) -> ConsistencyOut:
        return cls(
            from_size=old,
            to_size=new,
            from_checkpoint=None if c.old is None else CheckpointOut.of(c.old),
            to_checkpoint=None if c.new is None else CheckpointOut.of(c.new),
            proof=[h.hex() for h in c.proof],
        )
