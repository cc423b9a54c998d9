"""Settings refuse placeholders outside development and honour NEO4J_URI."""

from __future__ import annotations

from pathlib import Path

import pytest

from kgservice.settings import DEV_NEO4J_PASSWORD, DecisionEngineSettings, Environment, Settings


def test_development_defaults_use_the_local_server(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NEO4J_URI", "HS_NEO4J__URI", "HS_ENVIRONMENT", "HS_LOCAL_NEO4J__BOLT_PORT"):
        monkeypatch.delenv(name, raising=False)
    s = Settings()
    assert s.environment is Environment.development
    assert s.uses_local_neo4j
    assert s.neo4j_uri == "bolt://127.0.0.1:7687"


@pytest.mark.parametrize("password", ["", "neo4j", "changeme", DEV_NEO4J_PASSWORD])
def test_production_refuses_placeholder_passwords(
    monkeypatch: pytest.MonkeyPatch, password: str
) -> None:
    monkeypatch.setenv("HS_ENVIRONMENT", "production")
    monkeypatch.setenv("HS_NEO4J__PASSWORD", password)
    monkeypatch.setenv("HS_LEDGER__SIGNING_KEY", "22" * 32)
    with pytest.raises(ValueError, match="placeholder"):
        Settings()


def test_production_accepts_real_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HS_ENVIRONMENT", "production")
    monkeypatch.setenv("HS_NEO4J__PASSWORD", "s3cret-from-the-vault")
    monkeypatch.setenv("HS_LEDGER__SIGNING_KEY", "22" * 32)
    monkeypatch.setenv("HS_PROTECTION__PSEUDONYM_KEY", "33" * 32)
    monkeypatch.setenv("HS_PROTECTION__ENCRYPTION_KEY", "44" * 32)
    assert Settings().environment is Environment.production


def test_conventional_neo4j_variables_select_an_external_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEO4J_URI", "neo4j://db.example:7687")
    monkeypatch.setenv("NEO4J_USERNAME", "shield")
    monkeypatch.setenv("NEO4J_PASSWORD", "pw-from-env")
    s = Settings()
    assert not s.uses_local_neo4j
    assert s.neo4j_uri == "neo4j://db.example:7687"
    assert s.neo4j.user == "shield"
    assert s.neo4j.password.get_secret_value() == "pw-from-env"


def test_secrets_do_not_appear_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HS_NEO4J__PASSWORD", "very-secret-value")
    assert "very-secret-value" not in repr(Settings())


def test_writable_state_defaults_to_the_data_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("HS_DATA_DIR", "HS_LOCAL_NEO4J__HOME", "HS_LOCAL_NEO4J__JARS"):
        monkeypatch.delenv(name, raising=False)
    here = tmp_path.resolve()
    monkeypatch.chdir(here)
    s = Settings()
    assert s.ledger.dev_key_file == here / "var" / "ledger-signing-key.pem"
    assert s.protection.dev_key_file == here / "var" / "protection-keys.json"
    assert s.training.directory == here / "var" / "training"
    assert s.local_neo4j.home == here / ".neo4j" / "dev"
    monkeypatch.setenv("HS_DATA_DIR", str(here / "state"))
    s = Settings()
    assert s.training.directory == here / "state" / "var" / "training"
    assert s.local_neo4j.jars == here / "state" / ".neo4j" / "jars"


def test_the_decision_engine_is_tuned_from_its_own_section(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HS_DECISIONS__IN_FLIGHT", "3")
    monkeypatch.setenv("HS_DECISIONS__REMEMBERED_FINDINGS", "0")
    s = Settings()
    assert s.decisions.in_flight == 3
    assert s.decisions.remembered_findings == 0
    assert s.decisions.batch_size == DecisionEngineSettings().batch_size
    monkeypatch.setenv("HS_DECISIONS__IN_FLIGHT", "0")  # a batcher needs a runner
    with pytest.raises(ValueError, match="in_flight"):
        Settings()
