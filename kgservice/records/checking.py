"""Running the ingest pipeline from async code: in a worker thread, one at a time.

Parsing and SHACL are CPU-bound; running them on the event loop would stall every other request.
The lock keeps one validation at a time per process (the engines are not documented as
thread-safe, and two cores gain nothing from more), which also bounds memory.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import anyio

from ingest.pipeline import Checked, Pipeline


@dataclass
class Checker:
    pipeline: Pipeline
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _check(self, data: bytes, fmt: str, source: str, institution: str) -> Checked:
        with self._lock:
            return self.pipeline.check(data, fmt, source, institution)

    async def check(self, data: bytes, fmt: str, source: str, institution: str) -> Checked:
        return await anyio.to_thread.run_sync(self._check, data, fmt, source, institution)
