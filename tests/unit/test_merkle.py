"""The offline verifier against the published RFC 6962 test vectors, corrupted proofs, and
generated trees of every small size."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kgservice.ledger import merkle

# The eight standard test leaves of RFC 6962 implementations (certificate-transparency test data).
LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# (leaf index, tree size, audit path)
INCLUSION = [
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (0, 1, []),
]
# (old size, new size, proof)
CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


def root(n: int) -> bytes:
    return bytes.fromhex(ROOTS[n])


@pytest.mark.parametrize("size", range(9))
def test_roots_match_the_published_vectors(size: int) -> None:
    assert merkle.tree_root(LEAVES[:size]).hex() == ROOTS[size]


def test_empty_root_and_prefixes() -> None:
    assert hashlib.sha256(b"").digest() == merkle.EMPTY_ROOT
    assert merkle.leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert merkle.node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_inclusion_vectors_generate_and_verify(index: int, size: int, path: list[str]) -> None:
    assert [h.hex() for h in merkle.inclusion_proof(LEAVES[:size], index)] == path
    proof = [bytes.fromhex(h) for h in path]
    assert merkle.verify_inclusion(LEAVES[index], index, size, proof, root(size))


@pytest.mark.parametrize(("old", "new", "path"), CONSISTENCY)
def test_consistency_vectors_generate_and_verify(old: int, new: int, path: list[str]) -> None:
    assert [h.hex() for h in merkle.consistency_proof(LEAVES[:new], old)] == path
    proof = [bytes.fromhex(h) for h in path]
    assert merkle.verify_consistency(old, new, root(old), root(new), proof)


def _flip(h: bytes, bit: int) -> bytes:
    return bytes([h[0] ^ bit]) + h[1:]


def _inclusion_probes(
    index: int, size: int, proof: list[bytes], r: bytes
) -> list[tuple[str, bytes, int, int, list[bytes], bytes]]:
    leaf = LEAVES[index]
    probes = [
        ("index - 1", leaf, index - 1, size, proof, r),
        ("index + 1", leaf, index + 1, size, proof, r),
        ("index ^ 2", leaf, index ^ 2, size, proof, r),
        ("size * 2", leaf, index, size * 2, proof, r),
        ("size // 2", leaf, index, size // 2, proof, r),
        ("wrong leaf", b"WrongLeaf", index, size, proof, r),
        ("empty root", leaf, index, size, proof, merkle.EMPTY_ROOT),
        ("random root", leaf, index, size, proof, SOME_HASH),
        ("trailing garbage", leaf, index, size, [*proof, b""], r),
        ("trailing root", leaf, index, size, [*proof, r], r),
        ("preceding garbage", leaf, index, size, [b"", *proof], r),
        ("preceding root", leaf, index, size, [r, *proof], r),
    ]
    for i in range(len(proof)):
        bad = list(proof)
        bad[i] = _flip(bad[i], 8)
        probes.append((f"bit flipped in proof[{i}]", leaf, index, size, bad, r))
    if proof:
        probes.append(("removed component", leaf, index, size, proof[:-1], r))
    if len(proof) > 1:
        probes.append(
            ("inserted component", leaf, index, size, [proof[0], SOME_HASH, *proof[1:]], r)
        )
    return probes


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION[:4])
def test_corrupted_inclusion_proofs_fail(index: int, size: int, path: list[str]) -> None:
    proof = [bytes.fromhex(h) for h in path]
    wrongly_accepted = [
        desc
        for desc, leaf, i, n, p, r in _inclusion_probes(index, size, proof, root(size))
        if merkle.verify_inclusion(leaf, i, n, p, r)
    ]
    assert wrongly_accepted == []


@pytest.mark.parametrize(("old", "new", "path"), CONSISTENCY[1:])
def test_corrupted_consistency_proofs_fail(old: int, new: int, path: list[str]) -> None:
    proof = [bytes.fromhex(h) for h in path]
    r1, r2 = root(old), root(new)
    probes = [
        ("old - 1", old - 1, new, r1, r2, proof),
        ("old + 1", old + 1, new, r1, r2, proof),
        ("old ^ 2", old ^ 2, new, r1, r2, proof),
        ("new * 2", old, new * 2, r1, r2, proof),
        ("new // 2", old, new // 2, r1, r2, proof),
        ("wrong old root", old, new, SOME_HASH, r2, proof),
        ("wrong new root", old, new, r1, SOME_HASH, proof),
        ("swapped roots", old, new, r2, r1, proof),
        ("empty proof", old, new, r1, r2, []),
        ("trailing garbage", old, new, r1, r2, [*proof, b""]),
        ("trailing old root", old, new, r1, r2, [*proof, r1]),
        ("trailing new root", old, new, r1, r2, [*proof, r2]),
        ("preceding garbage", old, new, r1, r2, [b"", *proof]),
        ("preceding old root", old, new, r1, r2, [r1, *proof]),
        ("preceding new root", old, new, r1, r2, [r2, *proof]),
        ("preceding proof[0]", old, new, r1, r2, [proof[0], *proof]),
        ("truncated", old, new, r1, r2, proof[:-1]),
    ]
    for i in range(len(proof)):
        bad = list(proof)
        bad[i] = _flip(bad[i], 16)
        probes.append((f"bit flipped in proof[{i}]", old, new, r1, r2, bad))
    wrongly_accepted = [
        d for d, a, b, x, y, p in probes if merkle.verify_consistency(a, b, x, y, p)
    ]
    assert wrongly_accepted == []


def test_trivial_consistency_cases() -> None:
    r1, r2 = b"\x01" * 32, b"\x02" * 32
    assert merkle.verify_consistency(0, 0, r1, r1, [])
    assert merkle.verify_consistency(0, 5, r1, r2, [])
    assert not merkle.verify_consistency(1, 1, r1, r2, [])
    assert not merkle.verify_consistency(2, 1, r1, r2, [])
    assert not merkle.verify_consistency(1, 2, r1, r2, [])
    assert not merkle.verify_consistency(1, 1, r1, r1, [merkle.EMPTY_ROOT])


def test_inclusion_rejects_out_of_range() -> None:
    assert not merkle.verify_inclusion(b"x", 0, 0, [], merkle.EMPTY_ROOT)
    assert not merkle.verify_inclusion(b"x", 1, 1, [], merkle.leaf_hash(b"x"))
    with pytest.raises(ValueError, match="outside"):
        merkle.inclusion_ranges(3, 3)


@given(st.integers(min_value=1, max_value=300), st.data())
def test_every_proof_verifies_for_every_size(size: int, data: st.DataObject) -> None:
    leaves = [i.to_bytes(4, "big") for i in range(size)]
    r = merkle.tree_root(leaves)
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    proof = merkle.inclusion_proof(leaves, index)
    assert merkle.verify_inclusion(leaves[index], index, size, proof, r)
    assert not merkle.verify_inclusion(b"other", index, size, proof, r)
    old = data.draw(st.integers(min_value=0, max_value=size))
    c = merkle.consistency_proof(leaves, old)
    assert merkle.verify_consistency(old, size, merkle.tree_root(leaves[:old]), r, c)
    if 0 < old < size:
        assert not merkle.verify_consistency(
            old, size, merkle.tree_root(leaves[:old]), SOME_HASH, c
        )
