"""The Flower app is package data that each training job copies to its own directory, where
`flwr run` builds it: its sources only, never the compiled files beside them."""

from __future__ import annotations

import tomllib
from pathlib import Path

from kgservice.training.federation import APP, copy_app


def test_the_copy_holds_the_sources_without_compiled_files(tmp_path: Path) -> None:
    source = tmp_path / "source"
    (source / "hsfl" / "__pycache__").mkdir(parents=True)
    (source / "pyproject.toml").write_text("[project]\n", encoding="utf-8")
    (source / "hsfl" / "server.py").write_text("app = None\n", encoding="utf-8")
    (source / "hsfl" / "__pycache__" / "server.cpython-311.pyc").write_bytes(b"\0")
    copied = copy_app(tmp_path / "job" / "app", source)
    files = sorted(p.relative_to(copied).as_posix() for p in copied.rglob("*") if p.is_file())
    assert files == ["hsfl/server.py", "pyproject.toml"]


def test_the_shipped_app_has_the_components_its_pyproject_names(tmp_path: Path) -> None:
    copied = copy_app(tmp_path / "app")
    config = tomllib.loads((copied / "pyproject.toml").read_text("utf-8"))
    components = config["tool"]["flwr"]["app"]["components"]
    for ref in components.values():
        module = ref.split(":")[0]
        assert (copied / (module.replace(".", "/") + ".py")).is_file(), ref
    assert (copied / "pyproject.toml").read_bytes() == (APP / "pyproject.toml").read_bytes()
