"""Pseudonyms and encryption of core-private values."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from kgservice.records.protection import ProtectionKeyError, Protector, load_protector
from kgservice.settings import (
    Environment,
    LedgerSettings,
    Neo4jSettings,
    ProtectionSettings,
    Settings,
)

P = Protector(b"\x01" * 32, b"\x02" * 32)


def test_pseudonyms_are_stable_keyed_and_kind_separated() -> None:
    a = P.pseudonym("ResidentId", "11010519491231002X")
    assert a == P.pseudonym("ResidentId", "11010519491231002X")
    assert a != P.pseudonym("PhoneNumber", "11010519491231002X")
    assert a != Protector(b"\x03" * 32, b"\x02" * 32).pseudonym("ResidentId", "11010519491231002X")
    assert "11010519491231002X" not in a


def test_encryption_round_trips_and_is_bound_to_field_and_institution() -> None:
    token = P.encrypt("clinic-b", "f1", "张三")
    assert "张三" not in token
    assert P.decrypt("clinic-b", "f1", token) == "张三"
    assert P.encrypt("clinic-b", "f1", "张三") != token  # fresh nonce each time
    with pytest.raises(ValueError, match="does not belong"):
        P.decrypt("clinic-b", "f2", token)
    with pytest.raises(ValueError, match="does not belong"):
        P.decrypt("hosp-a", "f1", token)
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(ValueError, match=r"does not belong|altered|not a"):
        P.decrypt("clinic-b", "f1", tampered)


def test_keys_from_settings_and_refusals(tmp_path: Path) -> None:
    good = Settings(protection=ProtectionSettings(pseudonym_key=SecretStr("aa" * 32),
                                                  encryption_key=SecretStr("bb" * 32)))  # fmt: skip
    assert load_protector(good).pseudonym_key == b"\xaa" * 32
    short = Settings(
        protection=ProtectionSettings(
            pseudonym_key=SecretStr("aa"), encryption_key=SecretStr("bb" * 32)
        )
    )
    with pytest.raises(ProtectionKeyError, match="32 bytes"):
        load_protector(short)
    dev = Settings(protection=ProtectionSettings(dev_key_file=tmp_path / "k.json"))
    assert load_protector(dev) == load_protector(dev)
    assert (tmp_path / "k.json").stat().st_mode & 0o777 == 0o600


def test_production_needs_protection_keys() -> None:
    with pytest.raises(ValueError, match="HS_PROTECTION__PSEUDONYM_KEY"):
        Settings(
            environment=Environment.production,
            neo4j=Neo4jSettings(password=SecretStr("a-real-secret-pw")),
            ledger=LedgerSettings(signing_key=SecretStr("11" * 32)),
        )
