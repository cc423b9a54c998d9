"""CPU time of the processes a benchmark drives (Linux /proc), to print beside its latencies.

The same decisions cost this shared machine's processes up to ~1.7 times more CPU in some
minutes than in others, and a run's p99 follows that cost (docs/performance.md); the CPU per
unit of work says which kind of minute a figure came from.
"""

from __future__ import annotations

import os
from pathlib import Path

from kgservice.settings import Settings

_TICK = os.sysconf("SC_CLK_TCK")


def seconds(pid: int) -> float:
    """User plus system CPU seconds of ``pid`` and its descendants (0.0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text("ascii").rsplit(")", 1)[1].split()
        total = (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except (OSError, IndexError, ValueError):  # ended meanwhile, or no /proc here
        return 0.0
    for task in tasks:
        try:
            children = (task / "children").read_text("ascii").split()
        except OSError:  # the thread ended meanwhile
            continue
        total += sum(seconds(int(child)) for child in children)
    return total


def local_neo4j_pid(settings: Settings) -> int | None:
    """The local Neo4j server's pid (``shield neo4j start``), or None for another server."""
    if not settings.uses_local_neo4j:
        return None
    try:
        return int((settings.local_neo4j.home / "run" / "neo4j.pid").read_text("ascii").strip())
    except (OSError, ValueError):
        return None
