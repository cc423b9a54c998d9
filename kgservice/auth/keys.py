"""API keys: ``hs_<key id>_<secret>``. Only a SHA-256 of the whole key is stored.

The secret is 256 random bits, so a fast hash is enough: there is nothing to brute-force, and
lookups by key id keep authentication to one indexed read. Comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

PREFIX = "hs"
_KEY = re.compile(r"^hs_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True, slots=True)
class NewKey:
    key_id: str
    key: str  # shown once to its owner, never stored
    key_hash: str


def new_key() -> NewKey:
    key_id = secrets.token_hex(8)
    key = f"{PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    return NewKey(key_id, key, hash_key(key))


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def parse_key_id(key: str) -> str | None:
    """The key id of a well-formed key, or None."""
    m = _KEY.match(key)
    return m.group(1) if m else None


def matches(key: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_key(key), stored_hash)
