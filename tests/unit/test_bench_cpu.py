"""bench/cpu.py: CPU seconds of a process and its descendants, read from /proc."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from bench.cpu import seconds

# Burns ~0.4 s of CPU, says so, then idles until killed.
BURN = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.4: pass\n"
BURN += "print('burnt', flush=True)\ntime.sleep(60)\n"


def test_a_process_own_cpu_time() -> None:
    t = time.process_time()
    while time.process_time() - t < 0.2:
        pass
    # Clock ticks are 10 ms; the two clocks are read a moment apart.
    assert abs(seconds(os.getpid()) - time.process_time()) < 0.05


def test_a_childs_cpu_time_counts_for_its_parent() -> None:
    before = seconds(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", BURN], stdout=subprocess.PIPE, text=True)  # noqa: S603
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "burnt"
        assert seconds(child.pid) >= 0.38
        assert seconds(os.getpid()) - before >= 0.38
    finally:
        child.kill()
        child.wait(30)


def test_a_process_that_is_gone_has_none() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(30)
    assert seconds(child.pid) == 0.0
