"""Running the ingest pipeline from async code: in a worker process, one file at a time.

The worker checks a file and prepares what the service stores (kgservice/records/storage.py:
protected rows, contribution, findings), so the service only writes.

Parsing, grading and validation are CPU-bound Python. In a thread of the service they held the
interpreter lock for ~0.5 s per 1,000 records, so every other request — decisions, whose p99 is
25 ms — waited for it in slices, and storing the previous file competed with checking the next
one. In its own process the check runs on the other core: the service only unpickles the rows
(~0.02 s per 1,000 JSON records).

One worker per service process by default: two cores gain nothing from more, and it bounds
memory. If the worker dies (say the kernel kills it on a huge file), the request gets a 503 and
the next one starts a new worker.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from ingest.grading import Grader
from ingest.pipeline import Pipeline
from ingest.readers import fhirtwin
from ingest.readers.meter import load_mappings
from kgservice import heap
from kgservice.errors import ShieldError
from kgservice.records.protection import Protector
from kgservice.records.storage import Prepared, prepare

log = logging.getLogger(__name__)


class CheckerUnavailable(ShieldError):
    status_code = 503
    code = "checker_unavailable"


_pipeline: Pipeline | None = None
PARENT_POLL_S = 1.0


def _start() -> None:
    """In the worker: load the shapes and mappings once, as the service would."""
    global _pipeline
    threading.Thread(
        target=_exit_with_parent, args=(os.getppid(),), daemon=True, name="exit-with-parent"
    ).start()
    _pipeline = Pipeline(Grader.from_directory(), load_mappings())
    fhirtwin.bundle_twin()  # built once (~0.3 s), here rather than in the first FHIR request
    heap.settle(heap.CHECKING_YOUNG)


def _exit_with_parent(parent: int) -> None:
    """End the worker once the service is gone, however it ended. A service stopped without its
    shutdown (killed, or out of memory) left its worker running: an idle process holding the
    protection keys it was last handed (seen after benchmark runs)."""
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_S)
    os._exit(0)


def _prepare(
    data: bytes, fmt: str, source: str, institution: str, protector: Protector, received: str
) -> Prepared:
    if _pipeline is None:
        raise RuntimeError("the worker was not started with its pipeline")
    with heap.paused():
        return prepare(
            protector, _pipeline.check(data, fmt, source, institution), institution, received
        )


def _pid() -> int:
    return os.getpid()


class Checker:
    """Checks files in ``workers`` worker processes, started at the first use or ``start``."""

    def __init__(self, workers: int = 1) -> None:
        self.workers = workers
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                # spawn, not fork: the service has threads (driver, event loop) that a forked
                # child would inherit in whatever state they were in.
                context = multiprocessing.get_context("spawn")
                self._pool = ProcessPoolExecutor(self.workers, context, initializer=_start)
            return self._pool

    def start(self) -> None:
        """Start the worker now rather than at the first submission (it loads for ~3 s)."""
        self._executor().submit(_pid)

    async def worker_pid(self) -> int:
        return await asyncio.get_running_loop().run_in_executor(self._executor(), _pid)

    async def prepare(
        self,
        data: bytes,
        fmt: str,
        source: str,
        institution: str,
        protector: Protector,
        received: str,
    ) -> Prepared:
        """Check ``data`` and, if it breaks no rule, protect it for storage; ``received`` is
        the time the service received it. The keys travel with each call (a pipe to our own
        child process), so one worker serves services with different settings, as in the
        tests."""
        pool = self._executor()
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(
                pool, _prepare, data, fmt, source, institution, protector, received
            )
        except BrokenProcessPool:
            log.error("the ingest worker process died; starting a new one")
            with self._lock:
                if self._pool is pool:
                    self._pool = None
                pool.shutdown(wait=False, cancel_futures=True)
            raise CheckerUnavailable(
                f"{source}: checking stopped (the checking process ended); submit it again"
            ) from None

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
