"""The incremental tree state gives the same roots and proofs as the reference functions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kgservice.ledger import merkle, tree


def _hashes(n: int) -> list[bytes]:
    return [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


def test_incremental_roots_match_reference_for_every_size() -> None:
    hashes = _hashes(130)
    frontier: list[bytes] = []
    for n, h in enumerate(hashes):
        frontier, (done,) = tree.append(frontier, n, [h])
        assert done.root == merkle.subtree_hash(hashes, 0, n + 1)
        assert len(frontier) == (n + 1).bit_count()


def test_batch_append_equals_one_by_one() -> None:
    hashes = _hashes(77)
    one_by_one: list[bytes] = []
    for n, h in enumerate(hashes):
        one_by_one, _ = tree.append(one_by_one, n, [h])
    batched, appended = tree.append([], 0, hashes)
    assert batched == one_by_one
    assert [a.seq for a in appended] == list(range(77))


def test_completed_subtrees_are_the_perfect_blocks() -> None:
    hashes = _hashes(64)
    _, appended = tree.append([], 0, hashes)
    for a in appended:
        for level, h in enumerate(a.completed, start=1):
            start = a.seq + 1 - (1 << level)
            assert h == merkle.subtree_hash(hashes, start, a.seq + 1)


@given(st.integers(min_value=1, max_value=200), st.data())
def test_proofs_from_stored_blocks_equal_reference(size: int, data: st.DataObject) -> None:
    hashes = _hashes(size)
    _, appended = tree.append([], 0, hashes)
    store = {(0, a.seq): a.leaf_hash for a in appended}
    for a in appended:
        store.update({(lvl, a.seq): h for lvl, h in enumerate(a.completed, start=1)})
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    ranges = merkle.inclusion_ranges(index, size)
    assert tree.assemble(ranges, store.__getitem__) == [
        merkle.subtree_hash(hashes, a, b) for a, b in ranges
    ]
    old = data.draw(st.integers(min_value=0, max_value=size))
    ranges = merkle.consistency_ranges(old, size)
    assert tree.assemble(ranges, store.__getitem__) == [
        merkle.subtree_hash(hashes, a, b) for a, b in ranges
    ]


@given(st.integers(min_value=0, max_value=300))
def test_receipt_proof_of_newest_leaf_is_the_old_frontier(size: int) -> None:
    hashes = _hashes(size + 1)
    frontier, _ = tree.append([], 0, hashes[:size])
    proof = list(reversed(frontier))
    _, (done,) = tree.append(frontier, size, [hashes[size]])
    assert merkle.root_from_inclusion(hashes[size], size, size + 1, proof) == done.root


def test_frontier_must_match_size() -> None:
    with pytest.raises(ValueError, match="cannot describe"):
        tree.append([b"x" * 32], 3, [b"y" * 32])
