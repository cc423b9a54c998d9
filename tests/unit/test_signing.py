"""Signed checkpoints and loading the ledger key."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import SecretStr

from kgservice.ledger.signing import (
    Checkpoint,
    Signer,
    SigningKeyError,
    generate_key_file,
    load_signer,
    public_from_b64,
)
from kgservice.settings import Environment, LedgerSettings, Neo4jSettings, Settings

T = "2026-11-29T00:00:00.000000Z"


def test_checkpoint_round_trip_and_verification() -> None:
    signer = Signer(Ed25519PrivateKey.generate(), "test/ledger")
    c = signer.sign(5, b"\x07" * 32, T)
    assert c.verify(signer.public)
    data = c.as_json(signer.public)
    again = Checkpoint.from_json(data)
    assert again == c
    assert again.verify(public_from_b64(data["public_key"]))


@pytest.mark.parametrize(
    "field", ["size", "root", "time", "origin", "signature", "key_id", "other key"]
)
def test_any_change_breaks_the_signature(field: str) -> None:
    signer = Signer(Ed25519PrivateKey.generate(), "test/ledger")
    c = signer.sign(5, b"\x07" * 32, T)
    other = Signer(Ed25519PrivateKey.generate(), "test/ledger")
    changed = {
        "size": Checkpoint(c.origin, 6, c.root, c.time, c.key_id, c.signature),
        "root": Checkpoint(c.origin, 5, b"\x08" * 32, c.time, c.key_id, c.signature),
        "time": Checkpoint(c.origin, 5, c.root, T.replace("00.0", "01.0"), c.key_id, c.signature),
        "origin": Checkpoint("evil", 5, c.root, c.time, c.key_id, c.signature),
        "signature": Checkpoint(c.origin, 5, c.root, c.time, c.key_id, bytes(64)),
        "key_id": Checkpoint(c.origin, 5, c.root, c.time, "0" * 16, c.signature),
        "other key": other.sign(5, c.root, c.time),
    }[field]
    assert not changed.verify(signer.public)


def test_from_json_names_what_is_missing() -> None:
    with pytest.raises(ValueError, match="not a ledger checkpoint"):
        Checkpoint.from_json({"size": 1})


def test_key_file_is_private_and_loads(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    generate_key_file(path)
    assert path.stat().st_mode & 0o777 == 0o600
    cfg = Settings(ledger=LedgerSettings(signing_key_file=path))
    assert load_signer(cfg).key_id == load_signer(cfg).key_id
    with pytest.raises(FileExistsError):
        generate_key_file(path)


def test_seed_in_hex_is_accepted_and_bad_seed_rejected() -> None:
    good = Settings(ledger=LedgerSettings(signing_key=SecretStr("11" * 32)))
    assert len(load_signer(good).key_id) == 16
    bad = Settings(ledger=LedgerSettings(signing_key=SecretStr("xyz")))
    with pytest.raises(SigningKeyError, match="32-byte seed"):
        load_signer(bad)


def test_development_generates_a_key_once(tmp_path: Path) -> None:
    cfg = Settings(ledger=LedgerSettings(dev_key_file=tmp_path / "dev.pem"))
    first = load_signer(cfg).key_id
    assert load_signer(cfg).key_id == first


def test_production_without_key_is_refused_at_settings_time() -> None:
    with pytest.raises(ValueError, match="SIGNING_KEY"):
        Settings(
            environment=Environment.production,
            neo4j=Neo4jSettings(password=SecretStr("a-real-secret-pw")),
        )
