"""Signed tree heads (checkpoints) with Ed25519.

A checkpoint says "the log had ``size`` entries with root ``root`` at ``time``", signed by the
service's ledger key. The service signs the tree head after every append, so each entry carries
the signature of the tree that ended with it: an auditor holding an exported checkpoint can tell
that the database was rewritten, and the per-entry signatures let the verifier name the first
rewritten entry, because whoever rewrites the database without the key cannot re-sign.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kgservice.ledger.canonical import canonical
from kgservice.settings import Environment, Settings


class SigningKeyError(Exception):
    """The ledger signing key is missing or unreadable."""


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def key_id(public: Ed25519PublicKey) -> str:
    """Short fingerprint of a public key: the first 8 bytes of SHA-256 of its raw form, in hex."""
    return hashlib.sha256(raw_public(public)).hexdigest()[:16]


def raw_public(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_from_b64(text: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(unb64(text))


@dataclass(frozen=True, slots=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    time: str
    key_id: str
    signature: bytes

    @staticmethod
    def message(origin: str, size: int, root: bytes, time: str) -> bytes:
        """The signed bytes: canonical JSON of the tree head."""
        return canonical({"origin": origin, "size": size, "root": root.hex(), "time": time})

    def verify(self, public: Ed25519PublicKey) -> bool:
        if key_id(public) != self.key_id:
            return False
        try:
            public.verify(
                self.signature, self.message(self.origin, self.size, self.root, self.time)
            )
        except InvalidSignature:
            return False
        return True

    def as_json(self, public: Ed25519PublicKey | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "origin": self.origin,
            "size": self.size,
            "root": self.root.hex(),
            "time": self.time,
            "key_id": self.key_id,
            "signature": b64(self.signature),
        }
        if public is not None:
            out["public_key"] = b64(raw_public(public))
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Checkpoint:
        try:
            return cls(
                origin=str(data["origin"]),
                size=int(data["size"]),
                root=bytes.fromhex(str(data["root"])),
                time=str(data["time"]),
                key_id=str(data["key_id"]),
                signature=unb64(str(data["signature"])),
            )
        except (KeyError, ValueError, TypeError) as e:
            raise ValueError(f"not a ledger checkpoint: {e}") from e


class Signer:
    """The service's ledger key."""

    def __init__(self, private: Ed25519PrivateKey, origin: str) -> None:
        self._private = private
        self.public = private.public_key()
        self.key_id = key_id(self.public)
        self.origin = origin

    def sign(self, size: int, root: bytes, time: str) -> Checkpoint:
        sig = self._private.sign(Checkpoint.message(self.origin, size, root, time))
        return Checkpoint(self.origin, size, root, time, self.key_id, sig)

    @property
    def public_b64(self) -> str:
        return b64(raw_public(self.public))


def generate_key_file(path: Path) -> None:
    """Write a new Ed25519 private key as PKCS#8 PEM, readable by its owner only."""
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=False)
    path.write_bytes(pem)


def _read_key_file(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as e:
        raise SigningKeyError(f"cannot read the ledger signing key {path}: {e}") from e
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"{path} is not an Ed25519 private key")
    return key


def load_signer(settings: Settings) -> Signer:
    """The configured key; in development a key is generated on first use if none is set."""
    cfg = settings.ledger
    if cfg.signing_key is not None:
        try:
            seed = bytes.fromhex(cfg.signing_key.get_secret_value())
            private = Ed25519PrivateKey.from_private_bytes(seed)
        except ValueError as e:
            raise SigningKeyError("HS_LEDGER__SIGNING_KEY must be a 32-byte seed in hex") from e
    elif cfg.signing_key_file is not None:
        private = _read_key_file(cfg.signing_key_file)
    elif settings.environment is Environment.development:
        if not cfg.dev_key_file.exists():
            generate_key_file(cfg.dev_key_file)
        private = _read_key_file(cfg.dev_key_file)
    else:
        raise SigningKeyError("no ledger signing key configured")
    return Signer(private, cfg.origin)
