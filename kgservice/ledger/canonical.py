"""Ledger events and their canonical bytes (RFC 8785 JSON Canonicalization Scheme).

The leaf data of entry ``seq`` is the JCS encoding of
``{seq, type, actor, institution, time, payload, payload_digest}``. JCS makes the bytes a pure
function of the values, so anyone holding an entry can recompute its leaf hash in any language.
The sequence number is inside the leaf so that moving an entry to another position changes its
hash. Payloads carry identifiers and digests, never personal data: the ledger is shown to
auditors and may be exported.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import rfc8785

JsonObject = dict[str, Any]


_SAFE_INT = 2**53 - 1


def _stdlib_is_canonical(value: Any) -> bool:
    """True when sorted-key stdlib JSON already is the RFC 8785 form of ``value``.

    That holds without floats (JCS formats numbers the ECMAScript way), with integers in the
    IEEE-754 safe range, and with keys inside the Basic Multilingual Plane (JCS orders keys by
    UTF-16 code units, Python by code points; the two differ only for characters above U+FFFF).
    String escaping is the same in both: the short forms and lowercase \\u00XX for controls.
    """
    if isinstance(value, str) or value is None or isinstance(value, bool):
        return True
    if isinstance(value, int):
        return -_SAFE_INT <= value <= _SAFE_INT
    if isinstance(value, dict):
        return all(
            isinstance(k, str) and (k.isascii() or max(k) <= "\uffff") and _stdlib_is_canonical(v)
            for k, v in value.items()
        )
    if isinstance(value, list):
        return all(_stdlib_is_canonical(v) for v in value)
    return False


def canonical(value: Any) -> bytes:
    """RFC 8785 canonical JSON bytes of a JSON-compatible value.

    Ledger events are almost always strings, integers and nesting, for which the standard
    library's encoder is exact and five times faster than the general JCS encoder; this matters
    when an auditor re-hashes every entry. Anything else goes through ``rfc8785``. A property
    test checks the two agree.
    """
    if _stdlib_is_canonical(value):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return rfc8785.dumps(value)


def payload_digest(payload: JsonObject) -> str:
    """``sha256:<hex>`` of the canonical payload."""
    return "sha256:" + hashlib.sha256(canonical(payload)).hexdigest()


def utc_text(when: datetime) -> str:
    """RFC 3339 UTC with microseconds: the one time format in the graph and the ledger, so that
    stored times (consent validity, grant windows) compare correctly as strings."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def utc_now() -> str:
    return utc_text(datetime.now(UTC))


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened, before it has a place in the log."""

    type: str
    actor: str
    payload: JsonObject
    institution: str | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    """An event at its position in the log."""

    seq: int
    type: str
    actor: str
    institution: str | None
    time: str
    payload: JsonObject
    payload_digest: str

    @classmethod
    def place(cls, event: Event, seq: int, time: str) -> Entry:
        return cls(
            seq=seq,
            type=event.type,
            actor=event.actor,
            institution=event.institution,
            time=time,
            payload=event.payload,
            payload_digest=payload_digest(event.payload),
        )

    def as_json(self) -> JsonObject:
        return {
            "seq": self.seq,
            "type": self.type,
            "actor": self.actor,
            "institution": self.institution,
            "time": self.time,
            "payload": self.payload,
            "payload_digest": self.payload_digest,
        }

    def leaf_data(self) -> bytes:
        """The bytes whose RFC 9162 leaf hash is this entry's place in the tree."""
        return canonical(self.as_json())
