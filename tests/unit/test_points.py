"""Points arithmetic: largest-remainder allocation and the upload formula."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from settlement.points import AllocationError, allocate, upload_points

shares = st.dictionaries(
    st.sampled_from(["hosp-a", "clinic-b", "clinic-c", "clinic-d", "clinic-e"]),
    st.fractions(min_value=-50, max_value=100, max_denominator=1000),
    min_size=1,
)


@given(st.integers(0, 100_000), shares)
def test_the_pool_is_paid_exactly_and_nobody_is_a_point_from_their_quota(
    pool: int, s: dict[str, Fraction]
) -> None:
    positive = {p: v for p, v in s.items() if v > 0}
    if not positive:
        with pytest.raises(AllocationError):
            allocate(pool, s)
        return
    points = allocate(pool, s)
    assert sum(points.values()) == pool
    assert set(points) == set(s)
    total = sum(positive.values())
    for p, v in s.items():
        quota = pool * v / total if v > 0 else Fraction(0)
        assert math.floor(quota) <= points[p] <= math.floor(quota) + 1
        if v <= 0:
            assert points[p] == 0  # harmful or useless data earns nothing


def test_the_seeds_example_and_its_remainder() -> None:
    seed = {"A": Fraction(190, 3), "B": Fraction(70, 3), "C": Fraction(40, 3)}
    assert allocate(1000, seed) == {"A": 634, "B": 233, "C": 133}
    # 63.33 / 23.33 / 13.33 of 100: one point left; equal remainders, the larger share takes it.
    assert allocate(100, seed) == {"A": 64, "B": 23, "C": 13}
    # Equal shares and remainders: the institution id decides, so reruns agree.
    assert allocate(2, {"b": 1, "a": 1, "c": 1}) == {"a": 1, "b": 1, "c": 0}


def test_bad_pools_are_refused() -> None:
    with pytest.raises(AllocationError, match="negative"):
        allocate(-1, {"A": 1})
    with pytest.raises(AllocationError, match="no player has a positive share"):
        allocate(10, {"A": -1, "B": 0})


def test_upload_formula() -> None:
    # 100 usable fields at completeness 0.6: 100 * 0.8 = 80, plus 20 per rare complication.
    assert upload_points(fields=110, flagged=10, completeness=0.6, rare_conditions=2) == 120
    assert upload_points(fields=5, flagged=9, completeness=1.0, rare_conditions=0) == 0
    with pytest.raises(AllocationError):
        upload_points(fields=1, flagged=0, completeness=1.5, rare_conditions=0)
