"""A soak run's windows reported one by one and together (bench/decisions.py ``--windows``)."""

from __future__ import annotations

from collections import Counter

import pytest

from bench.decisions import Window


def test_windows_together_pool_latencies_failures_and_cpu() -> None:
    first = Window([1.0] * 99 + [50.0], 200.0, Counter(), [0.2, 0.1, 0.03])
    second = Window([2.0] * 100, 198.0, Counter({"503": 2}), [0.3, 0.2, 0.02])
    both = Window.together([first, second])
    assert sorted(both.latencies) == [1.0] * 99 + [2.0] * 100 + [50.0]
    assert both.achieved == 199.0
    assert both.failed == Counter({"503": 2})
    assert both.used == pytest.approx([0.5, 0.3, 0.05])
    report = both.report("200/s offered, all 2")
    assert report.startswith("HTTP + ledger, 200/s offered, all 2 ( 199/s done, 2 failed): p50")
    assert "failures: {'503': 2}" in report
    # 0.5 s of the service's CPU over 200 requests answered and 2 refused.
    assert "CPU per decision: service 2.48 ms" in report
