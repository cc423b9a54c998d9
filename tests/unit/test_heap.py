"""The collector settings of the checking process."""

from __future__ import annotations

import gc
import weakref

from kgservice import heap


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def _cycle() -> weakref.ref[Node]:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)


def test_a_pause_collects_the_cycles_made_inside_on_the_way_out() -> None:
    assert gc.isenabled()
    with heap.paused():
        assert not gc.isenabled()
        made = _cycle()
        kept = [Node() for _ in range(200_000)]  # far past any threshold: still no collection
        assert made() is not None
        del kept
    assert gc.isenabled()
    assert made() is None


def test_a_pause_leaves_a_disabled_collector_disabled() -> None:
    gc.disable()
    try:
        with heap.paused():
            made = _cycle()
        assert not gc.isenabled()
        assert made() is not None  # nothing collected: the caller had turned collection off
    finally:
        gc.enable()
    gc.collect()
    assert made() is None
