"""The wheel is the whole service: built from the checkout and installed with its run-time
dependencies into a fresh virtual environment outside it, it tests its own rules and serves
against the test Neo4j, run from a directory that is not the checkout. The development tooling
(demo, synthetic data and Faker, the local Neo4j launcher) is not installed.

Building and installing take about a minute with pip's cache warm (PyPI is the only network).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from kgservice.settings import Settings
from kgservice.training.federation import free_port
from tests import REPO_ROOT

# What the Dockerfile's build stage copies: everything the wheel is built from.
SOURCES = ("pyproject.toml", "README.md", "kgservice", "ingest", "settlement", "ontology", "shapes")
DATA = (
    "ontology/health.ttl",
    "shapes/grading.ttl",
    "shapes/records.ttl",
    "shapes/redlines.ttl",
    "shapes/purposes.ttl",
    "shapes/formulary.ttl",
    "shapes/cases.toml",
    "shapes/decision_cases.toml",
    "shapes/decision_corpus.json",
    "settlement/flower_app/pyproject.toml",
    "settlement/flower_app/hsfl/server.py",
    "settlement/flower_app/hsfl/client.py",
    "ingest/meters/yuwell.toml",
)
DEVELOPMENT = ("kgservice/demo/", "kgservice/localneo4j/", "ingest/synthetic/")


@dataclass(frozen=True)
class Installed:
    wheel: Path
    bin: Path
    workdir: Path  # outside the checkout, where the commands run

    def run(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - the installed `shield`, arguments from the tests
            [str(self.bin / "shield"), *args],
            capture_output=True,
            text=True,
            env=_env(),
            cwd=self.workdir,
            timeout=timeout,
            check=False,
        )


def _env() -> dict[str, str]:
    """The tests' environment (it says where the test Neo4j is) without anything that would
    point the installed package back at the checkout."""
    env = {**os.environ, "COLUMNS": "200"}
    for name in ("PYTHONPATH", "HS_DATA_DIR", "VIRTUAL_ENV"):
        env.pop(name, None)
    return env


def _pip(python: Path | str, *args: str) -> None:
    done = subprocess.run(  # noqa: S603 - pip, arguments built here
        [str(python), "-m", "pip", "--disable-pip-version-check", "-q", *args],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("wheel")
    assert REPO_ROOT not in root.parents
    # Built from a clean copy: an in-tree build reuses build/lib, which keeps deleted modules.
    source = root / "source"
    source.mkdir()
    for name in SOURCES:
        path = REPO_ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, source / name)
    _pip(sys.executable, "wheel", "--no-deps", "--wheel-dir", str(root / "dist"), str(source))
    (wheel,) = (root / "dist").glob("health_shield-*.whl")
    subprocess.run([sys.executable, "-m", "venv", str(root / "venv")], check=True)  # noqa: S603
    # No byte-compiling of every dependency at install: a third of the install's CPU time.
    _pip(root / "venv" / "bin" / "python", "install", "--no-compile", str(wheel))
    workdir = root / "work"
    workdir.mkdir()
    return Installed(wheel, root / "venv" / "bin", workdir)


def test_the_wheel_carries_the_data_and_leaves_the_development_tooling_out(
    installed: Installed,
) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    assert set(DATA) <= names
    assert not [n for n in names if n.startswith(DEVELOPMENT)]
    found = subprocess.run(  # noqa: S603 - the installed interpreter
        [
            str(installed.bin / "python"),
            "-c",
            "import importlib.util as u, kgservice, shapes; "
            "print(kgservice.__file__); print(shapes.__file__); print(u.find_spec('faker'))",
        ],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=installed.workdir,
        check=True,
    ).stdout.split()
    venv = installed.bin.parent
    assert all(venv in Path(p).parents for p in found[:2]), found
    assert found[2] == "None"  # Faker belongs to the development extra


def test_shield_rules_test_passes_from_the_installed_package(installed: Installed) -> None:
    done = installed.run("rules", "test")
    assert done.returncode == 0, done.stdout + done.stderr
    assert " 0 failed" in done.stdout


def test_development_commands_say_where_they_are(installed: Installed) -> None:
    for args in (("demo",), ("neo4j", "start")):
        done = installed.run(*args, timeout=60)
        assert done.returncode == 3, done.stdout + done.stderr
        assert "source checkout" in done.stderr


@pytest.fixture
def served(installed: Installed, settings: Settings) -> Iterator[tuple[str, Path]]:
    """`shield serve` from the installed package, as a process of its own; stopped afterwards."""
    port = free_port()
    log = installed.workdir / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(  # noqa: S603 - the installed `shield`
            [str(installed.bin / "shield"), "serve", "--port", str(port)],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=_env(),
            cwd=installed.workdir,
            start_new_session=True,
        )
    try:
        yield f"http://127.0.0.1:{port}", log
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        with contextlib.suppress(ProcessLookupError):  # its checking process, if it outlived it
            os.killpg(process.pid, signal.SIGKILL)


def test_shield_serve_answers_health_from_the_installed_package(
    installed: Installed, served: tuple[str, Path]
) -> None:
    url, log = served
    status = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            status = httpx.get(f"{url}/v1/health", timeout=5).status_code
        except httpx.TransportError:
            status = None
        if status == 200:
            break
        time.sleep(0.5)
    assert status == 200, log.read_text("utf-8", errors="replace")[-4000:]
    # Writable state went to the working directory, not into the installed package.
    assert (installed.workdir / "var" / "ledger-signing-key.pem").exists()
    site = next((installed.bin.parent / "lib").glob("python3*/site-packages"))
    assert not (site / "var").exists()
