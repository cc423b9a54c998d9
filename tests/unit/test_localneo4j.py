"""The local server's pure parts: Java version parsing and the configuration it writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from kgservice.localneo4j.server import LocalNeo4j, java_major
from kgservice.settings import LocalNeo4jSettings, auto_heap


@pytest.mark.parametrize(
    ("output", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15', 17),
        ('openjdk version "21" 2023-09-19', 21),
        ('java version "1.8.0_392"', 8),
        ("command not found", None),
    ],
)
def test_java_major(output: str, major: int | None) -> None:
    assert java_major(output) == major


@pytest.mark.parametrize(
    ("gib", "heap"),
    [(24, "8192m"), (64, "8192m"), (12, "4096m"), (6, "2048m"), (1, "512m")],
)
def test_an_auto_heap_is_a_third_of_memory_within_bounds(gib: int, heap: str) -> None:
    assert auto_heap(gib * 2**30) == heap


def test_the_auto_heap_is_written_as_a_size(tmp_path: Path) -> None:
    cfg = LocalNeo4jSettings(home=tmp_path / "i", jars=tmp_path / "j")
    assert cfg.heap == "auto"
    conf = LocalNeo4j(cfg, "pw-12345678").write_conf().read_text("utf-8")
    (line,) = [x for x in conf.splitlines() if x.startswith("server.memory.heap.max_size=")]
    assert line.removeprefix("server.memory.heap.max_size=") == cfg.heap_size()
    assert f"server.memory.heap.initial_size={cfg.heap_size()}" in conf.splitlines()
    assert 512 <= int(cfg.heap_size().removesuffix("m")) <= 8192


def test_conf_binds_loopback_with_auth_and_limits(tmp_path: Path) -> None:
    cfg = LocalNeo4jSettings(home=tmp_path / "i", jars=tmp_path / "j", bolt_port=7999, heap="300m")
    conf = LocalNeo4j(cfg, "pw-12345678").write_conf().read_text("utf-8")
    lines = set(conf.splitlines())
    assert "server.bolt.listen_address=127.0.0.1:7999" in lines
    assert "server.default_listen_address=127.0.0.1" in lines
    assert "dbms.security.auth_enabled=true" in lines
    assert "server.memory.heap.max_size=300m" in lines
    assert "db.transaction.timeout=60s" in lines
    assert "server.http.enabled=false" in lines
    # Strict validation stops the server on unknown settings: no 4.x `dbms.memory.*` names.
    assert not any(line.startswith("dbms.memory") for line in lines)
    # The JVM options Neo4j's own neo4j.conf sets (we write the file, so we must set them).
    assert "server.jvm.additional=-XX:+UseG1GC" in lines
    assert "server.jvm.additional=-XX:+AlwaysPreTouch" in lines
    # Ours: a young generation of half the heap (a large submission's state outlives fewer
    # young collections).
    assert "server.jvm.additional=-XX:NewRatio=1" in lines
    # ... and what survives one young collection is promoted at the next (halves the pause).
    assert "server.jvm.additional=-XX:MaxTenuringThreshold=1" in lines
