"""compose.yaml: both services have health checks, secrets fail fast, ports stay on loopback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests import REPO_ROOT


def _compose() -> dict[str, Any]:
    data = yaml.safe_load(Path(REPO_ROOT / "compose.yaml").read_text("utf-8"))
    assert isinstance(data, dict)
    return data


def test_neo4j_is_the_526_community_image_with_a_healthcheck() -> None:
    neo4j = _compose()["services"]["neo4j"]
    assert neo4j["image"] == "neo4j:5.26-community"
    assert "RETURN 1" in " ".join(neo4j["healthcheck"]["test"])


def test_service_waits_for_a_healthy_neo4j_and_runs_in_production() -> None:
    shield = _compose()["services"]["shield"]
    assert shield["depends_on"]["neo4j"]["condition"] == "service_healthy"
    assert shield["environment"]["HS_ENVIRONMENT"] == "production"
    assert shield["ports"] == ["127.0.0.1:8000:8000"]


def test_required_secrets_fail_fast() -> None:
    text = (REPO_ROOT / "compose.yaml").read_text("utf-8")
    assert text.count("${NEO4J_PASSWORD:?") == 2
    assert "ledger_signing_key" in _compose()["secrets"]


def test_the_production_service_gets_its_protection_keys_or_compose_refuses() -> None:
    environment = _compose()["services"]["shield"]["environment"]
    for name in ("HS_PROTECTION__PSEUDONYM_KEY", "HS_PROTECTION__ENCRYPTION_KEY"):
        assert environment[name].startswith(f"${{{name}:?")
