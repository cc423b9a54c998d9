"""bench/cpu.py: CPU seconds of a process and its descendants, read from /proc."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from bench.cpu import seconds

# Burns ~0.4 s of CPU, says so, then idles until killed.
BURN = (
    "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.4: pass\n"
    "print('burnt', flush=True)\ntime.sleep(60)\n"
)
# Starts the burner as its own child, passes on what it says, then idles until killed.
PARENT = (
    "import subprocess, sys, time\n"
    f"child = subprocess.Popen([sys.executable, '-c', {BURN!r}],\n"
    "                         stdout=subprocess.PIPE, text=True)\n"
    "print(child.stdout.readline().strip(), flush=True)\ntime.sleep(60)\n"
)


@contextmanager
def running(code: str) -> Iterator[int]:
    """A Python process running ``code`` until it prints its first line; its pid."""
    proc = subprocess.Popen(  # noqa: S603 - fixed code
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "burnt"
        yield proc.pid
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # with its child, if it has one
        proc.wait(30)


def test_a_process_own_cpu_time() -> None:
    with running(BURN) as pid:
        # Its own 0.4 s, plus start-up; clock ticks are 10 ms.
        assert 0.38 <= seconds(pid) < 1.5


def test_a_descendants_cpu_time_counts_for_its_ancestor() -> None:
    with running(PARENT) as pid:
        # The parent itself only starts Python and waits; the 0.4 s is its child's.
        assert seconds(pid) >= 0.38 + 0.01


def test_a_process_that_is_gone_has_none() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(30)
    assert seconds(child.pid) == 0.0
