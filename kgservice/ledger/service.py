"""Appending to the ledger and proving what is in it.

``Ledger.append`` runs inside the caller's write transaction, so an event and the change it
records commit or roll back together; ``Ledger.append_autocommit`` makes both in one statement
sent as an auto-commit (implicit) transaction, the decision engine's append. Appends are
serialised by the head node's write lock; the tree state on the head makes each append O(log n)
in hashing and O(1) in queries.
"""

from __future__ import annotations

import asyncio
import json
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from neo4j import AsyncManagedTransaction, AsyncSession
from neo4j.exceptions import TransientError

from kgservice.errors import BadRequest, NotFound, ShieldError
from kgservice.graph.database import Runner
from kgservice.ledger import merkle, tree
from kgservice.ledger import repository as repo
from kgservice.ledger.canonical import Entry, Event, canonical, utc_now
from kgservice.ledger.repository import Write
from kgservice.ledger.signing import Checkpoint, Signer, b64, unb64


class LedgerDamaged(ShieldError):
    """Stored ledger data needed for a proof is missing; `shield ledger verify` says where."""

    status_code = 500
    code = "ledger_damaged"


@dataclass(frozen=True, slots=True)
class Receipt:
    """Proof handed to the caller that its event is in the log."""

    seq: int
    leaf_hash: bytes
    checkpoint: Checkpoint
    inclusion_proof: list[bytes]


@dataclass(frozen=True, slots=True)
class ProvenEntry:
    entry: Entry
    leaf_hash: bytes
    checkpoint: Checkpoint
    inclusion_proof: list[bytes]


@dataclass(frozen=True, slots=True)
class Consistency:
    old: Checkpoint | None
    new: Checkpoint | None
    proof: list[bytes]


def entry_from_row(row: dict[str, Any]) -> Entry:
    """Rebuild an entry from its stored properties."""
    return Entry(
        seq=int(row["seq"]),
        type=str(row["type"]),
        actor=str(row["actor"]),
        institution=row.get("institution"),
        time=str(row["time"]),
        payload=json.loads(row["payload"]),
        payload_digest=str(row["payload_digest"]),
    )


def checkpoint_from_row(row: dict[str, Any], origin: str, size: int) -> Checkpoint:
    """The signed tree head stored on an entry (or the head) for a tree of ``size``."""
    return Checkpoint(
        origin=origin,
        size=size,
        root=bytes.fromhex(row["root"]),
        time=str(row["time"]),
        key_id=str(row["key_id"]),
        signature=unb64(str(row["signature"])),
    )


@dataclass(frozen=True, slots=True)
class _State:
    """The tree as the head describes it."""

    size: int
    frontier: list[bytes]
    root: str | None  # hex; None for the empty tree


def _tree_state(head: dict[str, Any]) -> _State:
    """The tree state, from the head as read under its lock."""
    frontier = [bytes.fromhex(h) for h in head["frontier"] or []]
    return _State(int(head["size"]), frontier, head["root"])


@dataclass(frozen=True, slots=True)
class _Built:
    """Entries built on one state of the tree, ready to write."""

    rows: list[dict[str, Any]]
    head: dict[str, Any]  # the head's new properties
    receipts: list[Receipt]
    state: _State  # after them


class Ledger:
    def __init__(self, signer: Signer) -> None:
        self.signer = signer
        # The tree state each open transaction left on the head it has locked. Once a
        # transaction holds the head's lock nobody else can move the head until it ends, so a
        # second append in the same transaction builds on it with certainty.
        # Weak keys: the entry goes with the transaction, committed or rolled back; a retry is
        # a new transaction object.
        self._held: weakref.WeakKeyDictionary[AsyncManagedTransaction, _State]
        self._held = weakref.WeakKeyDictionary()
        # The state this service's latest append left the head in (once it holds the lock, or
        # has committed when it is its own transaction), or the head as a missed guess read it.
        # The next append is built on it and sent with the lock in one round trip. It is a guess
        # (that transaction may roll back, another process may have appended since): the head is
        # compared under its lock, and a wrong guess costs a second round trip, never a wrong
        # entry.
        self._last: _State | None = None
        self._sending = asyncio.Lock()  # append_autocommit: one in flight

    async def append(
        self, tx: AsyncManagedTransaction, events: Sequence[Event], writes: Sequence[Write] = ()
    ) -> list[Receipt]:
        """Append events in order inside ``tx``; return one receipt per event.

        ``writes``: statements of the caller's (no RETURN) and their parameters, made in the
        append's round trip once the head is locked: a hot path (decisions) writes its nodes
        and appends at once."""
        if not events:
            for statement, params in writes:
                await (await tx.run(statement, params)).consume()
            return []
        guess = self._held.get(tx) or self._last
        # Times follow sequence numbers. A guess is right only if the latest entry was built by
        # this service before this call, so the time taken now is no earlier than its time.
        built = None if guess is None else self._build(guess, events)
        head = await repo.lock_and_append_at(
            tx,
            (guess.size, guess.root) if guess is not None else (0, None),
            built.rows if built is not None else [],
            built.head if built is not None else {},
            writes,
        )
        if built is None or not head["appended"]:
            # Build on the head as read under the lock, taking the time now that it is held.
            built = self._build(_tree_state(head), events)
            await repo.write_entries(tx, built.rows, built.head, writes)
        self._held[tx] = self._last = built.state
        return built.receipts

    async def append_autocommit(
        self,
        session: AsyncSession,
        events: Sequence[Event],
        writes: Sequence[Write] = (),
        guard: Write | None = None,
    ) -> list[Receipt] | None:
        """Append events and make ``writes`` in one statement sent as an auto-commit (implicit)
        transaction: no BEGIN and no COMMIT message, so one round trip, the commit included,
        and the head's lock is held only while the server runs the statement, never across a
        round trip to this process. The decision engine records its batches this way.

        What a transaction gives is kept. The statement takes the head's lock first and reads
        the head under it; entries and ``writes`` are written only if the head is in the state
        this process's last append left (on which the entries were built) and ``guard`` (a
        subquery returning one row with ``holds``, read under the lock) holds. Otherwise
        nothing is written and None is returned: another process appended, an append of this
        one failed, the guard did not hold, or the server gave up on the statement (a
        deadlock). The caller then falls back to a transaction (``append``), which builds on
        the head as read under its lock (the decision engine, when its guard failed, looks its
        facts up again first). Without a guess of the head (none appended yet, or the last
        append's outcome unknown) nothing is sent and None is returned.

        One at a time per process: a second waits for the first to come back and builds on
        the state it left. Sent at once, built on the first's expected state, the second could
        reach the head's lock first and miss, and its miss would make the next one miss too
        (docs/performance.md)."""
        async with self._sending:
            guess = self._last
            if guess is None or not events:
                return None
            built = self._build(guess, events)
            try:
                head = await repo.lock_and_append_at(
                    session, (guess.size, guess.root), built.rows, built.head, writes, guard
                )
            except TransientError:  # rolled back
                self._last = None
                return None
            except BaseException:  # committed or not: read the head next time
                self._last = None
                raise
            if not head["appended"]:
                self._last = _tree_state(head)
                return None
            self._last = built.state
            return built.receipts

    def _build(self, state: _State, events: Sequence[Event]) -> _Built:
        size, frontier = state.size, state.frontier
        time = utc_now()
        rows: list[dict[str, Any]] = []
        receipts: list[Receipt] = []
        for offset, event in enumerate(events):
            entry = Entry.place(event, size + offset, time)
            leaf = merkle.leaf_hash(entry.leaf_data())
            # The audit path of the newest leaf is the old frontier, smallest subtree first.
            proof = list(reversed(frontier))
            frontier, (done,) = tree.append(frontier, entry.seq, [leaf])
            signed = self.signer.sign(entry.seq + 1, done.root, time)
            rows.append(self._row(entry, done, signed))
            receipts.append(Receipt(entry.seq, leaf, signed, proof))
        last = receipts[-1].checkpoint
        head = {
            "size": last.size,
            "frontier": [h.hex() for h in frontier],
            "root": last.root.hex(),
            "time": last.time,
            "key_id": last.key_id,
            "signature": rows[-1]["signature"],
        }
        return _Built(rows, head, receipts, _State(last.size, frontier, head["root"]))

    @staticmethod
    def _row(entry: Entry, done: tree.Appended, signed: Checkpoint) -> dict[str, Any]:
        row: dict[str, Any] = {
            "seq": entry.seq,
            "type": entry.type,
            "actor": entry.actor,
            "institution": entry.institution,
            "time": entry.time,
            "payload": canonical(entry.payload).decode("utf-8"),
            "payload_digest": entry.payload_digest,
            "leaf_hash": done.leaf_hash.hex(),
            "root": signed.root.hex(),
            "key_id": signed.key_id,
            "signature": b64(signed.signature),
        }
        if done.completed:
            row["subtrees"] = [h.hex() for h in done.completed]
        return row

    async def checkpoint(self, tx: Runner) -> Checkpoint | None:
        """The latest signed tree head, or None while the ledger is empty."""
        head = await repo.read_head(tx)
        size = int(head["size"])
        return None if size == 0 else checkpoint_from_row(head, self.signer.origin, size)

    async def checkpoint_at(self, tx: Runner, size: int) -> Checkpoint | None:
        """The signed tree head of the log when it had ``size`` entries (None for size 0)."""
        if size == 0:
            return None
        row = await repo.get_entry(tx, size - 1)
        if row is None:
            raise LedgerDamaged(f"ledger entry {size - 1} is missing")
        return checkpoint_from_row(row, self.signer.origin, size)

    async def prove_entry(self, tx: Runner, seq: int) -> ProvenEntry:
        """Entry ``seq`` with its inclusion proof against the latest checkpoint."""
        head, row = await repo.head_and_entry(tx, seq)
        size = int(head["size"])
        if not 0 <= seq < size:
            raise NotFound(f"no ledger entry {seq}")
        if row is None:
            raise LedgerDamaged(f"ledger entry {seq} is missing")
        latest = checkpoint_from_row(head, self.signer.origin, size)
        proof = await self._hashes(tx, merkle.inclusion_ranges(seq, size))
        return ProvenEntry(entry_from_row(row), bytes.fromhex(row["leaf_hash"]), latest, proof)

    async def prove_consistency(self, tx: Runner, old: int, new: int | None) -> Consistency:
        """Proof that the log at size ``new`` (default: latest) extends the log at ``old``."""
        latest = await self.checkpoint(tx)
        size = 0 if latest is None else latest.size
        new = size if new is None else new
        if not 0 <= old <= new:
            raise BadRequest(f"'from' ({old}) must be between 0 and 'to' ({new})")
        if new > size:
            raise NotFound(f"the ledger has {size} entries; no tree of size {new}")
        proof = await self._hashes(tx, merkle.consistency_ranges(old, new))
        return Consistency(
            await self.checkpoint_at(tx, old), await self.checkpoint_at(tx, new), proof
        )

    async def _hashes(self, tx: Runner, ranges: Sequence[merkle.Range]) -> list[bytes]:
        refs = sorted({b for blocks in tree.blocks_for(ranges) for b in blocks})
        stored = await repo.get_blocks(tx, refs)

        def lookup(block: tree.Block) -> bytes:
            value = stored.get(block)
            if value is None:
                raise LedgerDamaged(f"ledger entry {block[1]} is missing or damaged")
            return bytes.fromhex(value)

        return tree.assemble(ranges, lookup)
