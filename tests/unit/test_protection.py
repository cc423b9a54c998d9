"""Pseudonyms and encryption of core-private values."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import anyio
import pytest
from pydantic import SecretStr

from ingest.grading import Grader
from ingest.pipeline import Pipeline
from ingest.readers.meter import load_mappings
from kgservice.auth.models import Principal
from kgservice.auth.roles import Role
from kgservice.records import service, storage
from kgservice.records.protection import ProtectionKeyError, Protector, load_protector
from kgservice.settings import (
    Environment,
    LedgerSettings,
    Neo4jSettings,
    ProtectionSettings,
    Settings,
)
from tests import REPO_ROOT

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
    good = Settings(
        protection=ProtectionSettings(
            pseudonym_key=SecretStr("aa" * 32), encryption_key=SecretStr("bb" * 32)
        )
    )
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


def test_prepared_rows_hold_no_plaintext_identifier_and_stay_with_their_institution() -> None:
    data = (REPO_ROOT / "samples" / "records.json").read_bytes()
    checked = Pipeline(Grader.from_directory(), load_mappings()).check(data, "json", "r", "a")
    prepared = storage.prepare(P, checked, "clinic-a", "2026-11-29T00:00:00Z")
    assert not prepared.violations
    assert prepared.count == len(prepared.records) > 0
    identifiers = {
        f.ref.datum.value for f in checked.fields if f.ref.datum.kind in storage.IDENTIFIER_KINDS
    }
    assert identifiers
    text = repr([r["fields"] for r in prepared.records])
    assert not any(str(v) in text for v in identifiers)
    system = Principal(
        id="prn_x",
        name="x",
        role=Role.institution_system,
        institution="clinic-b",
        created="2026-11-29T00:00:00Z",
    )
    nothing = cast(Any, None)  # refused before the transaction or ledger is touched

    async def store_for_b() -> None:
        await service.submit(nothing, nothing, system, "clinic-b", prepared, "json", "r", 1)

    with pytest.raises(ValueError, match="prepared for"):
        anyio.run(store_for_b)
