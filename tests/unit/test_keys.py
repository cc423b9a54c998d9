"""API key format, hashing and comparison."""

from __future__ import annotations

from kgservice.auth import keys


def test_new_key_parses_and_matches_only_itself() -> None:
    k = keys.new_key()
    assert keys.parse_key_id(k.key) == k.key_id
    assert keys.matches(k.key, k.key_hash)
    assert not keys.matches(k.key + "x", k.key_hash)
    assert k.key not in k.key_hash


def test_malformed_keys_have_no_id() -> None:
    for bad in [
        "",
        "hs_",
        "hs_zz_abc",
        "Bearer hs_0123456789abcdef_x",
        "hs_0123456789abcdef_short",
    ]:
        assert keys.parse_key_id(bad) is None


def test_keys_are_unique() -> None:
    assert len({keys.new_key().key for _ in range(100)}) == 100
