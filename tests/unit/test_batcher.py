"""The batcher's arguments; how it schedules is tested against Neo4j
(tests/integration/test_grouping.py)."""

from __future__ import annotations

import pytest

from kgservice.graph.grouping import Batcher


async def echo(items: list[int]) -> list[int | Exception]:
    return list(items)


@pytest.mark.parametrize("in_flight", [0, -1])
def test_a_batcher_needs_at_least_one_runner(in_flight: int) -> None:
    with pytest.raises(ValueError, match="at least one runner"):
        Batcher(echo, 8, in_flight=in_flight)


def test_runners_default_to_one() -> None:
    assert Batcher(echo, 8).in_flight == 1
