"""Running one federated job on Flower's deployment engine, as processes on this host.

A SuperLink and one SuperNode per institution, each a separate process with its own port (no
Ray, no simulation); the SuperLink never installs app dependencies and nothing phones home. Each
SuperNode is given only its own institution's feature file. In a real alliance each SuperNode
runs at its institution next to its own data; here the service writes each institution's file
into a directory only that node reads — the stand-in for the institution's local feature store.
The ServerApp writes its results to a file this module waits for; every process is stopped when
the job ends, whatever happened.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

# The Flower app (package ``hsfl`` with its pyproject.toml) is package data of ``settlement``.
APP = files("settlement") / "flower_app"
STOP_GRACE_S = 10.0


class FederationError(RuntimeError):
    """The job could not run; the message names the step and the log to read."""


@dataclass(frozen=True, slots=True)
class Spec:
    directory: Path
    players: list[str]
    data: dict[str, Path]
    validation: Path
    rounds: int
    mode: str
    metric: str = "accuracy"
    epochs: int = 20
    lr: float = 0.5
    timeout_s: float = 600.0
    # Set when the service shuts down: the job stops its processes and is recorded as failed.
    stop: threading.Event = field(default_factory=threading.Event)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tool(name: str) -> str:
    here = Path(sys.executable).parent / name
    return str(here) if here.exists() else name


def _wait_port(port: int, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise FederationError(f"the SuperLink exited at start; see {log}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise FederationError(f"the SuperLink did not listen on port {port}; see {log}")


def _descendants(roots: set[int]) -> set[int]:
    """Every live process below ``roots`` (Flower starts executors in sessions of their own, so
    killing our process groups does not reach them)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            pid, rest = stat.read_text().split(" ", 1)
            ppid = int(rest.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue  # the process ended while we looked
        children.setdefault(ppid, []).append(int(pid))
    found: set[int] = set()
    todo = list(roots)
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _watchers(pids: set[int]) -> set[int]:
    """Flower executors started for one of ``pids`` (``--parent-pid N``): they outlive a parent
    that died before the scan found them, so they are found by the parent they name."""
    found: set[int] = set()
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        for flag, value in itertools.pairwise(argv):
            if flag == b"--parent-pid" and value.isdigit() and int(value) in pids:
                found.add(int(cmdline.parent.name))
    return found


def _signal(pids: set[int], sig: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM our processes and everything below them; SIGKILL what is left after the grace.

    The tree is scanned again until our processes have exited: a SuperLink or SuperNode can start
    an executor while shutting down, and once its parent is gone an orphan is no longer found
    below our processes — but it still names that parent."""
    roots = {p.pid for p in processes}
    everything: set[int] = set()
    deadline = time.monotonic() + STOP_GRACE_S
    while True:
        below = _descendants(roots) | _watchers(roots | everything)
        found = ({pid for pid in roots if _alive(pid)} | below) - everything
        _signal(found, signal.SIGTERM)
        everything |= found
        if all(p.poll() is not None for p in processes) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    for p in processes:
        if p.poll() is None:
            p.kill()
        p.wait()
    late = _watchers(roots | everything) - everything  # started just before a parent exited
    _signal(late, signal.SIGTERM)
    everything |= late
    while time.monotonic() < deadline and any(_alive(pid) for pid in everything):
        time.sleep(0.1)
    _signal({pid for pid in everything if _alive(pid)}, signal.SIGKILL)


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting for its parent to collect it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def copy_app(target: Path, source: Traversable = APP) -> Path:
    """The Flower app's sources copied to ``target``: `flwr run` builds its FAB from a directory,
    and the installed one may be read-only or hold compiled files that are no part of the app."""
    target.mkdir(parents=True, exist_ok=True)
    for item in source.iterdir():
        if item.is_dir() and item.name != "__pycache__":
            copy_app(target / item.name, item)
        elif item.is_file() and item.name.endswith((".py", ".toml")):
            (target / item.name).write_bytes(item.read_bytes())
    return target


def run(spec: Spec) -> dict[str, Any]:
    """Run the job; return what the ServerApp wrote. Raises FederationError with the log path."""
    spec.directory.mkdir(parents=True, exist_ok=True)
    app = copy_app(spec.directory / "app")
    home = spec.directory / "flwr-home"
    home.mkdir(exist_ok=True)
    port = free_port()
    (home / "config.toml").write_text(
        f'[superlink]\ndefault = "local"\n\n[superlink.local]\naddress = "127.0.0.1:{port}"\n'
        "insecure = true\n",
        encoding="utf-8",
    )
    # The SuperLink starts its SuperExec by name: with the service run as .venv/bin/shield and
    # that directory not on PATH, the SuperLink would exit at start (FileNotFoundError).
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    env = {
        **os.environ,
        "PATH": path,
        "FLWR_HOME": str(home),
        "FLWR_TELEMETRY_ENABLED": "0",
        "FLWR_DISABLE_UPDATE_CHECK": "1",
    }
    out = spec.directory / "result.json"
    out.unlink(missing_ok=True)
    processes: list[subprocess.Popen[bytes]] = []

    def start(name: str, args: list[str]) -> tuple[subprocess.Popen[bytes], Path]:
        log = spec.directory / f"{name}.log"
        with log.open("wb") as sink:
            p = subprocess.Popen(  # noqa: S603 - Flower's own executables, arguments built here
                args,
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=spec.directory,
            )
        processes.append(p)
        return p, log

    try:
        link, link_log = start(
            "superlink",
            [
                _tool("flower-superlink"),
                "--insecure",
                "--disable-runtime-dependency-installation",
                "--port",
                str(port),
                "--database",
                str(spec.directory / "superlink.db"),
            ],
        )
        _wait_port(port, link, link_log, 60.0)
        for institution in spec.players:
            config = f'institution="{institution}" data-path="{spec.data[institution]}"'
            start(
                f"supernode-{institution}",
                [
                    _tool("flower-supernode"),
                    "--insecure",
                    "--superlink",
                    f"127.0.0.1:{port}",
                    "--port",
                    str(free_port()),
                    "--node-config",
                    config,
                ],
            )
        run_config = (
            f"rounds={spec.rounds} epochs={spec.epochs} lr={spec.lr} "
            f'players="{",".join(spec.players)}" nodes={len(spec.players)} '
            f'mode="{spec.mode}" metric="{spec.metric}" validation="{spec.validation}" '
            f'out="{out}"'
        )
        started = subprocess.run(  # noqa: S603 - our own app, arguments built above
            [
                _tool("flwr"),
                "run",
                str(app),
                "local",
                "--run-config",
                run_config,
                "--format",
                "json",
            ],
            env=env,
            capture_output=True,
            timeout=120,
            check=False,
            cwd=spec.directory,
        )
        if started.returncode != 0:
            (spec.directory / "flwr-run.log").write_bytes(started.stdout + started.stderr)
            raise FederationError(f"`flwr run` failed; see {spec.directory / 'flwr-run.log'}")
        deadline = time.monotonic() + spec.timeout_s
        while not out.exists():
            if time.monotonic() > deadline:
                raise FederationError(f"no result after {spec.timeout_s:.0f} s; see {link_log}")
            if link.poll() is not None:
                raise FederationError(f"the SuperLink stopped; see {link_log}")
            if spec.stop.wait(0.5):
                raise FederationError("the service stopped before the job finished")
        result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
        if "error" in result:
            raise FederationError(str(result["error"]))
        return result
    finally:
        _stop(processes)
