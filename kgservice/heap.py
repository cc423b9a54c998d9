"""Garbage-collector settings for long-running processes."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# For the checking process: collect the youngest generation after 50,000 net new container
# objects rather than 700. A 1,000-record file builds ~300k containers (its graph index, rows)
# that all live until it is checked; at the default, the collector walks them again and again,
# ~25 % of checking such a file (docs/performance.md). Garbage without cycles is still freed at
# once by reference counting. Not for the service process: there, rarer but longer young
# collections lengthen decisions' p99 (34 ms against 24 ms at 200/s).
CHECKING_YOUNG = 50_000


def settle(young: int | None = None) -> None:
    """After start-up: move what is loaded so far (ontology, shapes, models: ~100k long-lived
    objects) out of the collector's reach, so that no full collection walks them again (~50 ms,
    a p99 spike for decisions); ``young``: a threshold for the youngest generation."""
    gc.collect()
    gc.freeze()
    if young is not None:
        gc.set_threshold(young, 20, 20)


@contextmanager
def paused() -> Iterator[None]:
    """No automatic collection inside; the youngest generation is collected on the way out.

    For checking a file in the checking process: it makes ~0.5M containers (a FHIR Bundle's
    elements, the graph index, rows) and no reference cycles (none found in a 1,000-record JSON
    or FHIR file; ~200 objects in an XLSX one, from openpyxl), so every young collection during
    it would walk live objects for nothing: ~0.05-0.15 s per 1,000 FHIR records. What
    cycles it does leave were all made inside, so they are all in the youngest generation."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
            gc.collect(0)
