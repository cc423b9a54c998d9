"""The checking process does not outlive the service that started it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests import REPO_ROOT

# A stand-in for the service: starts a checker, says its worker's pid, then waits to be killed.
PARENT = """
import asyncio, sys, time
from kgservice.records.checking import Checker

async def main() -> None:
    checker = Checker()
    print(await checker.worker_pid(), flush=True)
    time.sleep(600)

if __name__ == "__main__":
    asyncio.run(main())
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for this purpose; /proc says so.
    stat = Path(f"/proc/{pid}/stat").read_text("ascii")
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_worker_exits_when_the_service_is_killed(tmp_path: Path) -> None:
    script = tmp_path / "service.py"
    script.write_text(PARENT, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    parent = subprocess.Popen([sys.executable, script], stdout=subprocess.PIPE, text=True, env=env)  # noqa: S603
    try:
        assert parent.stdout is not None
        worker = int(parent.stdout.readline())
        assert _alive(worker)
        parent.send_signal(signal.SIGKILL)  # no shutdown, no cleanup
        parent.wait(timeout=10)
        deadline = time.monotonic() + 10
        while _alive(worker) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(worker)
    finally:
        parent.kill()
