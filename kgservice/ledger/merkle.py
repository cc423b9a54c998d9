"""RFC 9162 / RFC 6962 Merkle tree hashing, proofs and proof verification.

This module is the offline verifier: it imports nothing but the standard library, so an auditor
can copy it (or install the package without a database) and check inclusion and consistency proofs
handed out by the service against a checkpoint they kept themselves.

Definitions (RFC 9162 §2.1.1):
  leaf hash  = SHA-256(0x00 || leaf data)
  node hash  = SHA-256(0x01 || left || right)
  MTH(D[n])  = MTH(D[0:k]) node MTH(D[k:n]), k the largest power of two smaller than n.

Why it is written here rather than taken from ``pymerkle``: the service keeps the tree in Neo4j and
must compute proofs from hashes stored there (see ``tree.py``), so it needs the proof *shape*
(which subtree ranges a proof consists of) as a pure function over sizes — something pymerkle's
storage-bound API does not expose — and third parties need a verifier with no dependencies at all.
The implementation is checked against the published RFC 6962 test vectors in the tests.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

Range = tuple[int, int]
"""A half-open leaf range ``[start, end)`` that is a subtree of the RFC 6962 tree."""


def leaf_hash(data: bytes) -> bytes:
    """Hash of one leaf's data."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash of an interior node from its children's hashes."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n`` >= 2)."""
    if n < 2:
        raise ValueError("a split needs at least two leaves")
    return 1 << ((n - 1).bit_length() - 1)


def perfect_blocks(start: int, end: int) -> list[Range]:
    """Aligned power-of-two blocks, largest first, whose fold is MTH of ``[start, end)``.

    For a range that is a subtree of the RFC tree, MTH(range) equals folding these blocks from
    the right: node(b0, node(b1, ... bk)). Each block is a perfect subtree, whose hash never
    changes once complete — which is what lets the ledger store them and answer proofs in O(log n).
    """
    blocks: list[Range] = []
    while start < end:
        size = 1 << ((end - start).bit_length() - 1)
        blocks.append((start, start + size))
        start += size
    return blocks


def fold_blocks(hashes: Sequence[bytes]) -> bytes:
    """Combine perfect-block hashes (largest first) into the subtree hash."""
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """Subtree ranges whose hashes form the audit path of leaf ``index`` in a tree of ``size``.

    Order is RFC 9162's: from the leaf's sibling up to the root's other child.
    """
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")
    path: list[Range] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = split_point(hi - lo)
        if index < lo + k:
            path.append((lo + k, hi))
            hi = lo + k
        else:
            path.append((lo, lo + k))
            lo = lo + k
    path.reverse()
    return path


def consistency_ranges(old_size: int, new_size: int) -> list[Range]:
    """Subtree ranges whose hashes form the consistency proof from ``old_size`` to ``new_size``."""
    if not 0 <= old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to size {new_size}")
    if old_size in (0, new_size):
        return []
    path: list[Range] = []
    lo, hi, m, complete = 0, new_size, old_size, True
    # Iterative form of RFC 6962 SUBPROOF(m, D[lo:hi], complete).
    while m != hi - lo:
        k = split_point(hi - lo)
        if m <= k:
            path.append((lo + k, hi))
            hi = lo + k
        else:
            path.append((lo, lo + k))
            lo, m, complete = lo + k, m - k, False
    if not complete:
        path.append((lo, hi))
    path.reverse()
    return path


def subtree_hash(leaf_hashes: Sequence[bytes], start: int, end: int) -> bytes:
    """MTH over already-hashed leaves ``[start, end)`` (in memory)."""
    n = end - start
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaf_hashes[start]
    k = split_point(n)
    return node_hash(
        subtree_hash(leaf_hashes, start, start + k), subtree_hash(leaf_hashes, start + k, end)
    )


def _hashes_for(ranges: Sequence[Range], hasher: Callable[[int, int], bytes]) -> list[bytes]:
    return [hasher(a, b) for a, b in ranges]


def tree_root(leaves: Sequence[bytes]) -> bytes:
    """Root hash of a tree whose leaves are the given raw leaf data."""
    hashed = [leaf_hash(x) for x in leaves]
    return subtree_hash(hashed, 0, len(hashed))


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """Audit path for leaf ``index`` over raw leaf data."""
    hashed = [leaf_hash(x) for x in leaves]
    return _hashes_for(
        inclusion_ranges(index, len(hashed)), lambda a, b: subtree_hash(hashed, a, b)
    )


def consistency_proof(leaves: Sequence[bytes], old_size: int) -> list[bytes]:
    """Consistency proof from the first ``old_size`` leaves to all of ``leaves``."""
    hashed = [leaf_hash(x) for x in leaves]
    return _hashes_for(
        consistency_ranges(old_size, len(hashed)), lambda a, b: subtree_hash(hashed, a, b)
    )


def _well_formed(*hashes: bytes) -> bool:
    return all(len(h) == HASH_SIZE for h in hashes)


def root_from_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes | None:
    """The root implied by a leaf *hash*, its index and audit path (RFC 9162 §2.1.3.2)."""
    if not 0 <= index < size or not _well_formed(leaf, *proof):
        return None
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Check that the leaf with raw data ``leaf`` is at ``index`` in the tree with ``root``."""
    computed = root_from_inclusion(leaf_hash(leaf), index, size, proof)
    return computed is not None and computed == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Check that the tree of ``new_size`` with ``new_root`` extends the one of ``old_size``.

    RFC 9162 §2.1.4.2; a proof from size 0 is always empty and always consistent.
    """
    if not 0 <= old_size <= new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof
    if not proof or not _well_formed(old_root, new_root, *proof):
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # old tree is a perfect subtree: its root starts the path
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root
