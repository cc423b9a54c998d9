"""Incremental tree state: appending to the log in O(log n) without rereading it.

The state of a tree of ``size`` leaves is its *frontier*: the roots of the perfect subtrees that
make it up, largest first (one per set bit of ``size``). Appending a leaf merges equal-sized
subtrees like a binary counter. Every perfect subtree completed by an append is reported, so the
store can keep it beside the entry that completed it; proofs are then assembled from stored
perfect subtrees (``merkle.perfect_blocks``) instead of recomputing from the leaves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from kgservice.ledger import merkle

Block = tuple[int, int]
"""A perfect subtree named by (level, seq of its last leaf); level 0 is a single leaf."""


@dataclass(frozen=True, slots=True)
class Appended:
    """What one leaf's append produced."""

    seq: int
    leaf_hash: bytes
    # Hashes of the perfect subtrees of level 1, 2, ... that this leaf completed.
    completed: tuple[bytes, ...]
    root: bytes


def append(
    frontier: Sequence[bytes], size: int, leaf_hashes: Iterable[bytes]
) -> tuple[list[bytes], list[Appended]]:
    """Append leaf hashes to a tree given by its frontier; return the new frontier and details."""
    front = list(frontier)
    if len(front) != size.bit_count():
        raise ValueError(f"a frontier of {len(front)} subtrees cannot describe {size} leaves")
    out: list[Appended] = []
    for h in leaf_hashes:
        seq = size
        acc = h
        completed: list[bytes] = []
        # Each trailing 1-bit of the old size is a subtree of the new leaf's size to merge with.
        level = 0
        while (size >> level) & 1:
            acc = merkle.node_hash(front.pop(), acc)
            completed.append(acc)
            level += 1
        front.append(acc)
        size += 1
        out.append(Appended(seq, h, tuple(completed), root_of(front)))
    return front, out


def root_of(frontier: Sequence[bytes]) -> bytes:
    """Root of the tree whose frontier is given (empty tree: SHA-256 of nothing)."""
    return merkle.fold_blocks(frontier)


def blocks_for(ranges: Sequence[merkle.Range]) -> list[list[Block]]:
    """For each subtree range, the stored perfect blocks whose fold gives its hash."""
    out: list[list[Block]] = []
    for start, end in ranges:
        blocks = merkle.perfect_blocks(start, end)
        out.append([((b - a).bit_length() - 1, b - 1) for a, b in blocks])
    return out


def assemble(ranges: Sequence[merkle.Range], lookup: Callable[[Block], bytes]) -> list[bytes]:
    """Hashes of the given subtree ranges from stored perfect blocks."""
    return [merkle.fold_blocks([lookup(b) for b in blocks]) for blocks in blocks_for(ranges)]
