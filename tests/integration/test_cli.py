"""The `shield` command as operators and auditors run it: a separate process on the same Neo4j."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kgservice.graph.database import Graph
from kgservice.ledger.service import Ledger
from kgservice.settings import Settings
from tests.integration.ledgerkit import fill, run

pytestmark = pytest.mark.anyio


def shield(key_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HS_LEDGER__SIGNING_KEY_FILE": str(key_file), "COLUMNS": "200"}
    return subprocess.run(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "kgservice.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


async def test_verify_checkpoint_then_detect_tampering(
    graph: Graph, ledger: Ledger, key_file: Path, tmp_path: Path
) -> None:
    await fill(graph, ledger, 12)
    kept = tmp_path / "checkpoint.json"
    exported = shield(key_file, "ledger", "checkpoint", "--out", str(kept))
    assert exported.returncode == 0, exported.stderr
    assert json.loads(kept.read_text())["size"] == 12

    ok = shield(key_file, "ledger", "verify", "--checkpoint", str(kept), "--format", "json")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert json.loads(ok.stdout)["ok"] is True

    await run(graph, "MATCH (e:LedgerEntry {seq: 7}) SET e.actor = 'someone else'")
    bad = shield(key_file, "ledger", "verify", "--checkpoint", str(kept))
    assert bad.returncode == 1
    assert "first bad entry: 7" in bad.stdout


async def test_principals_and_institutions_from_the_command_line(
    graph: Graph, key_file: Path
) -> None:
    made = shield(
        key_file,
        "institutions",
        "create",
        "clinic-z",
        "--name",
        "Z 社区",
        "--tier",
        "community_health_centre",
    )
    assert made.returncode == 0, made.stderr
    created = shield(
        key_file,
        "principals",
        "create",
        "--name",
        "z-system",
        "--role",
        "institution_system",
        "--institution",
        "clinic-z",
        "--format",
        "json",
    )
    assert created.returncode == 0, created.stderr
    body = json.loads(created.stdout)
    assert body["api_key"].startswith("hs_")
    assert body["principal"]["institution"] == "clinic-z"
    unbound = shield(key_file, "principals", "create", "--name", "x", "--role", "requester")
    assert unbound.returncode == 2
    assert "must be bound to an institution" in unbound.stderr
    dup = shield(
        key_file, "institutions", "create", "clinic-z", "--name", "again", "--tier", "other"
    )
    assert dup.returncode == 5
    assert "already exists" in dup.stderr


async def test_neo4j_status(settings: Settings, key_file: Path, graph: Graph) -> None:
    status = shield(key_file, "neo4j", "status")
    if settings.uses_local_neo4j:
        assert status.returncode == 0, status.stdout + status.stderr
        assert "running" in status.stdout.lower()
    else:
        assert status.returncode == 2
        assert "NEO4J_URI" in status.stderr


async def test_demo_seeds_and_keeps_its_keys_private(
    graph: Graph, key_file: Path, tmp_path: Path
) -> None:
    keys = tmp_path / "keys.json"
    seeded = shield(key_file, "demo", "--no-scenario", "--keys-file", str(keys))
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr
    assert "already running" in seeded.stdout  # the test server: started once, not again
    assert "3 institutions, 10 principals" in seeded.stdout
    assert keys.stat().st_mode & 0o777 == 0o600
    assert len(json.loads(keys.read_text("utf-8"))) == 10
