"""Recompute the whole ledger from Neo4j and say whether, and where, it was altered.

Checks, in one pass over the entries in sequence order:
  - sequence numbers run 0, 1, 2, ... without gaps or repeats (deleted or duplicated entries);
  - each entry's content gives its stored leaf hash (content edited in place);
  - the stored subtree hashes and tree head equal the recomputed ones (hashes edited);
then, against the latest signed head and an exported checkpoint if given:
  - the log is not shorter than the checkpoint (tail truncated);
  - the recomputed root at the checkpoint's size is the signed one (rewritten with new hashes).
A rewrite that recomputed every hash is located by the per-entry signatures: entries before the
rewrite still verify, the first rewritten one does not, and whoever rewrote the database did not
have the key to re-sign it. The search is binary, so a clean ledger costs two signature checks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from kgservice.graph.database import Graph
from kgservice.ledger import merkle, tree
from kgservice.ledger import repository as repo
from kgservice.ledger.service import entry_from_row
from kgservice.ledger.signing import Checkpoint, key_id, unb64

FetchBatch = Callable[[int, int], list[dict[str, Any]]]
BATCH = 5000


@dataclass(slots=True)
class Report:
    size: int = 0
    root: bytes = merkle.EMPTY_ROOT
    first_bad: int | None = None
    problems: list[str] = field(default_factory=list)
    signatures_checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def fail(self, seq: int | None, message: str) -> None:
        if seq is not None and (self.first_bad is None or seq < self.first_bad):
            self.first_bad = seq
        self.problems.append(message)


@dataclass(slots=True)
class _Scan:
    origin: str
    roots: list[bytes] = field(default_factory=list)
    # (time, key id, signature) stored with each entry: its signed tree head, decoded on demand.
    signed_heads: list[tuple[str, str, str]] = field(default_factory=list)
    signed: dict[int, bool] = field(default_factory=dict)  # signature checks already made
    frontier: list[bytes] = field(default_factory=list)


def verify_ledger(
    fetch: FetchBatch,
    head: dict[str, Any],
    public: Ed25519PublicKey,
    origin: str,
    checkpoint: Checkpoint | None = None,
    every_signature: bool = False,
) -> Report:
    """Verify the stored log given a batch reader ``fetch(start, limit)`` and the stored head."""
    report = Report()
    scan = _scan(fetch, origin, report)
    count = len(scan.roots)
    report.size = count
    report.root = scan.roots[-1] if scan.roots else merkle.EMPTY_ROOT
    if report.problems:
        return report

    head_size = int(head.get("size") or 0)
    if head_size != count:
        report.fail(min(head_size, count), f"the head says {head_size} entries; found {count}")
    elif list(head.get("frontier") or []) != [h.hex() for h in scan.frontier] or (
        count and head.get("root") != report.root.hex()
    ):
        # Appends build on the head's tree state: a forged one would corrupt every later entry.
        report.fail(count, "the ledger head's tree state does not match the entries")
    if every_signature:
        for seq in range(count):
            if not _signed(scan, seq, public, report):
                report.fail(seq, f"entry {seq}: its signed tree head does not verify")
                return report

    if count:
        _locate_rewrite(
            "the latest signed head", _stored_head(scan, count - 1), scan, public, report
        )
    if checkpoint is not None:
        _check_kept(checkpoint, scan, public, report)
    return report


def _scan(fetch: FetchBatch, origin: str, report: Report) -> _Scan:
    scan = _Scan(origin)
    expected = 0
    while True:
        rows = fetch(expected, BATCH)
        if not rows:
            return scan
        for row in rows:
            seq = int(row["seq"])
            if seq != expected:
                what = "is missing" if seq > expected else "appears twice"
                report.fail(expected, f"entry {min(seq, expected)} {what}")
                return scan
            try:
                leaf = merkle.leaf_hash(entry_from_row(row).leaf_data())
            except (KeyError, TypeError, ValueError):
                report.fail(seq, f"entry {seq}: its stored fields are unreadable")
                return scan
            if leaf.hex() != row.get("leaf_hash"):
                report.fail(seq, f"entry {seq}: its content does not match its leaf hash")
                return scan
            scan.frontier, (done,) = tree.append(scan.frontier, seq, [leaf])
            stored_subtrees = row.get("subtrees") or []
            if [h.hex() for h in done.completed] != list(stored_subtrees):
                report.fail(seq, f"entry {seq}: its stored subtree hashes were altered")
                return scan
            if done.root.hex() != row.get("root"):
                report.fail(seq, f"entry {seq}: its stored tree head does not match the log")
                return scan
            scan.roots.append(done.root)
            scan.signed_heads.append((row["time"], row["key_id"], row["signature"]))
            expected += 1


def _signed(scan: _Scan, seq: int, public: Ed25519PublicKey, report: Report) -> bool:
    """Does the signature stored with entry ``seq`` sign the *recomputed* root?"""
    if seq not in scan.signed:
        report.signatures_checked += 1
        time, kid, signature = scan.signed_heads[seq]
        recomputed = Checkpoint(scan.origin, seq + 1, scan.roots[seq], time, kid, unb64(signature))
        scan.signed[seq] = recomputed.verify(public)
    return scan.signed[seq]


def _stored_head(scan: _Scan, seq: int) -> Checkpoint:
    """The signed tree head stored with entry ``seq`` (its root was checked against the log)."""
    time, kid, signature = scan.signed_heads[seq]
    return Checkpoint(scan.origin, seq + 1, scan.roots[seq], time, kid, unb64(signature))


def _check_kept(kept: Checkpoint, scan: _Scan, public: Ed25519PublicKey, report: Report) -> None:
    """Compare the log with a checkpoint kept outside the database."""
    count = len(scan.roots)
    if not kept.verify(public):
        report.fail(None, f"the checkpoint is not signed by the ledger key {key_id(public)}")
    elif kept.size > count:
        report.fail(count, f"entries from {count} are missing: the checkpoint covers {kept.size}")
    elif kept.size:
        _locate_rewrite("the checkpoint", kept, scan, public, report)


def _locate_rewrite(
    name: str, target: Checkpoint, scan: _Scan, public: Ed25519PublicKey, report: Report
) -> None:
    """If the log at ``target.size`` is not the signed one, name the first rewritten entry."""
    if scan.roots[target.size - 1] == target.root and _signed(
        scan, target.size - 1, public, report
    ):
        return
    first = _first_unsigned(scan, target.size, public, report)
    if first is None:
        report.fail(
            None,
            f"the log differs from {name} at size {target.size}, yet every entry is signed: "
            "the signing key may be compromised",
        )
    else:
        report.fail(first, f"entry {first}: rewritten; the log differs from {name} from here on")


def _first_unsigned(scan: _Scan, size: int, public: Ed25519PublicKey, report: Report) -> int | None:
    """Binary search for the first entry whose signed head no longer matches the log."""
    lo, hi = 0, size  # invariant: entries < lo verify; the answer is in [lo, hi)
    while lo < hi:
        mid = (lo + hi) // 2
        if _signed(scan, mid, public, report):
            lo = mid + 1
        else:
            hi = mid
    return lo if lo < size else None


async def verify_stored(
    graph: Graph,
    public: Ed25519PublicKey,
    origin: str,
    checkpoint: Checkpoint | None = None,
    every_signature: bool = False,
) -> Report:
    """``verify_ledger`` over the graph through the async driver (in-process callers: the demo
    scenario, the tests); the entries are read first, in batches, then verified."""
    head = await graph.read(repo.read_head)
    rows: list[dict[str, Any]] = []
    while len(rows) < int(head["size"]):
        batch = await graph.read(repo.entries_from, len(rows), 10 * BATCH)
        if not batch:
            break
        rows += batch

    def fetch(start: int, limit: int) -> list[dict[str, Any]]:
        return rows[start : start + limit]

    return verify_ledger(fetch, head, public, origin, checkpoint, every_signature)
