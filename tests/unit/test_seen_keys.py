"""Keys remembered for endpoints that check the principal in their own transaction."""

from __future__ import annotations

from kgservice.auth import keys
from kgservice.auth.models import Principal
from kgservice.auth.roles import Role
from kgservice.auth.seen import SeenKeys


def _principal(n: int) -> Principal:
    return Principal(
        id=f"prn_{n}",
        name=f"p{n}",
        role=Role.requester,
        institution="hosp-a",
        created="2026-11-29T00:00:00Z",
    )


def test_a_key_maps_to_its_principal_and_nothing_else_does() -> None:
    seen = SeenKeys()
    key = keys.new_key().key
    seen.remember(key, _principal(1))
    assert seen.get(key) == _principal(1)
    assert seen.get(key + "x") is None
    assert seen.get(keys.new_key().key) is None


def test_no_key_is_kept_in_the_clear() -> None:
    seen = SeenKeys()
    key = keys.new_key().key
    seen.remember(key, _principal(1))
    assert key not in repr(vars(seen))


def test_forgetting_a_principal_drops_all_its_keys() -> None:
    seen = SeenKeys()
    first, second, other = (keys.new_key().key for _ in range(3))
    seen.remember(first, _principal(1))
    seen.remember(second, _principal(1))
    seen.remember(other, _principal(2))
    seen.forget("prn_1")
    assert seen.get(first) is None
    assert seen.get(second) is None
    assert seen.get(other) == _principal(2)


def test_a_full_memory_starts_over() -> None:
    seen = SeenKeys(limit=3)
    ks = [keys.new_key().key for _ in range(4)]
    for n, key in enumerate(ks):
        seen.remember(key, _principal(n))
    assert [seen.get(k) is not None for k in ks] == [False, False, False, True]
