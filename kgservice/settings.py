"""Service settings: one pydantic-settings object, read from ``HS_*`` environment variables.

Nested sections use ``__`` (``HS_NEO4J__PASSWORD``). The conventional ``NEO4J_URI``,
``NEO4J_USERNAME`` and ``NEO4J_PASSWORD`` variables, when set, point the service at an external
Neo4j instead of the local one. Outside development, placeholder secrets are refused at load time,
so a production deployment cannot start with the development password or without a signing key.

Writable state that no setting places elsewhere (development keys, training files, the local
Neo4j) goes under ``HS_DATA_DIR``, by default the working directory: the checkout under `make`,
the service's own directory when installed, never the installed package.
"""

from __future__ import annotations

import os
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Self

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Development-only; refused outside development (see _refuse_placeholders).
DEV_NEO4J_PASSWORD = "health-shield-dev"  # noqa: S105
PLACEHOLDER_SECRETS = frozenset(
    {"", "changeme", "change-me", "password", "secret", "neo4j", "test", DEV_NEO4J_PASSWORD}
)


def data_dir() -> Path:
    """Where writable state goes by default: ``HS_DATA_DIR``, else the working directory."""
    return Path(os.environ.get("HS_DATA_DIR") or Path.cwd()).absolute()


class Environment(StrEnum):
    development = "development"
    production = "production"


class Neo4jSettings(BaseModel):
    # None means the local server that `shield neo4j start` runs (see LocalNeo4jSettings).
    uri: str | None = None
    user: str = "neo4j"
    password: SecretStr = SecretStr(DEV_NEO4J_PASSWORD)
    database: str = "neo4j"
    connect_timeout_s: float = Field(default=5.0, gt=0)
    # Upper bound for one unit of work; the server's db.transaction.timeout is the backstop.
    transaction_timeout_s: float = Field(default=30.0, gt=0)


class LocalNeo4jSettings(BaseModel):
    """The Neo4j that `shield neo4j start` assembles from Maven Central and runs on loopback."""

    # One server instance (conf, data, logs); tests use their own (see Makefile).
    home: Path = Field(default_factory=lambda: data_dir() / ".neo4j" / "dev")
    # Jars fetched by Maven, shared by every instance of the same version.
    jars: Path = Field(default_factory=lambda: data_dir() / ".neo4j" / "jars")
    version: str = "5.26.30"
    bolt_port: int = Field(default=7687, ge=1, le=65535)
    # "auto": a third of the machine's memory, from 512m to 8g (8g on a 24 GiB machine); or a
    # size as Neo4j writes it ("4g", "300m"). A 1,000-record submission is one transaction of
    # ~15k nodes, whose state is copied by every young collection that happens while it runs:
    # a larger heap means fewer collections, shorter pauses and less server CPU per submission
    # (docs/performance.md).
    heap: str = "auto"
    pagecache: str = "512m"
    transaction_timeout: str = "60s"
    start_timeout_s: float = Field(default=180.0, gt=0)

    def heap_size(self) -> str:
        """The heap Neo4j is given: ``heap``, with "auto" worked out for this machine."""
        if self.heap != "auto":
            return self.heap
        return auto_heap(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def auto_heap(memory: int) -> str:
    """A third of ``memory`` (bytes), from 512 MiB to 8 GiB, in MiB: the service, its checking
    process and the page cache need the rest, and beyond 8 GiB a young collection is already
    rarer than one per submission."""
    mib = memory // 3 // 2**20
    return f"{max(512, min(8192, mib))}m"


class LedgerSettings(BaseModel):
    origin: str = "health-shield/ledger"
    # An Ed25519 private key in PKCS#8 PEM (`shield ledger keygen`), or its 32-byte seed as hex.
    signing_key_file: Path | None = None
    signing_key: SecretStr | None = None
    # Development only: where a key is generated on first use when none is configured.
    dev_key_file: Path = Field(
        default_factory=lambda: data_dir() / "var" / "ledger-signing-key.pem"
    )


class ApiSettings(BaseModel):
    max_body_bytes: int = Field(default=20 * 1024 * 1024, gt=0)
    # One submission is one transaction and one validation: bound what it may hold.
    max_records_per_submission: int = Field(default=5000, gt=0)
    # Requests in progress per worker before new ones get 503 (health checks excepted).
    max_in_flight: int = Field(default=64, gt=0)
    # Processes that read, grade and validate submissions (kgservice/records/checking.py).
    check_workers: int = Field(default=1, gt=0)


class ProtectionSettings(BaseModel):
    """Keys that protect personal data before it is stored (32 bytes each, hex)."""

    # HMAC-SHA256 key shared by the alliance: the same person gets the same pseudonym everywhere.
    pseudonym_key: SecretStr | None = None
    # Master key from which each institution's AES-256-GCM key is derived (HKDF-SHA256).
    encryption_key: SecretStr | None = None
    # Development only: where the two keys are generated on first use when none are set.
    dev_key_file: Path = Field(default_factory=lambda: data_dir() / "var" / "protection-keys.json")


class CypherSettings(BaseModel):
    """Limits on analysts' read-only Cypher."""

    timeout_s: float = Field(default=10.0, gt=0)
    max_rows: int = Field(default=1000, gt=0)


class TrainingSettings(BaseModel):
    """Federated training jobs (Flower processes on this host)."""

    # Per-job node files, logs, results.
    directory: Path = Field(default_factory=lambda: data_dir() / "var" / "training")
    timeout_s: float = Field(default=900.0, gt=0)
    max_rounds: int = Field(default=10, ge=1)
    retrain_up_to: int = Field(default=4, ge=1, le=10, description="players; more: reconstruct")


class DecisionEngineSettings(BaseModel):
    """How the decision engine (kgservice/decisions/engine.py) batches and what it remembers.
    Figures that justify a value are in docs/performance.md."""

    # Requests decided together at most: one lookup, one red-line run and one ledger append for
    # all of them. A red-line run's cost per request falls as more share it (its fixed part is
    # most of it), and a rule set is vetted for batching at this size.
    batch_size: int = Field(default=32, ge=1)
    # Batches under way at once per process. A second lets a request that arrives while a batch
    # is being written start at once (its lookup and red-line run overlap the other's append)
    # instead of waiting for that batch to come back. A third would mostly wait: a process sends
    # one ledger append at a time (Ledger.append_autocommit).
    in_flight: int = Field(default=2, ge=1)
    # Requests whose facts are remembered, counted as requests plus the patients they name (a
    # cohort's row holds a coverage entry per patient, ~250 bytes): ~20 MB at most. A repeat of
    # a remembered request is decided in one round trip instead of two. 0: none.
    remembered_facts: int = Field(default=65_536, ge=0)
    # Distinct request graphs whose red-line findings are remembered, per rule set; a full memo
    # starts over. Routine requests repeat a few graphs (patients and times are not in them),
    # and a remembered graph costs a dictionary lookup instead of an engine run. 0: none.
    remembered_findings: int = Field(default=4096, ge=0)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="HS_", env_nested_delimiter="__", extra="ignore", frozen=True
    )

    environment: Environment = Environment.development
    neo4j: Neo4jSettings = Neo4jSettings()
    # Sections with paths under HS_DATA_DIR are made when the settings are read, not at import.
    local_neo4j: LocalNeo4jSettings = Field(default_factory=LocalNeo4jSettings)
    ledger: LedgerSettings = Field(default_factory=LedgerSettings)
    api: ApiSettings = ApiSettings()
    protection: ProtectionSettings = Field(default_factory=ProtectionSettings)
    cypher: CypherSettings = CypherSettings()
    training: TrainingSettings = Field(default_factory=TrainingSettings)
    decisions: DecisionEngineSettings = DecisionEngineSettings()

    @model_validator(mode="before")
    @classmethod
    def _conventional_neo4j_variables(cls, data: object) -> object:
        """Let NEO4J_URI / NEO4J_USERNAME / NEO4J_PASSWORD select an external server."""
        if not isinstance(data, dict):
            return data
        overrides = {
            "uri": os.environ.get("NEO4J_URI"),
            "user": os.environ.get("NEO4J_USERNAME") or os.environ.get("NEO4J_USER"),
            "password": os.environ.get("NEO4J_PASSWORD"),
        }
        present = {k: v for k, v in overrides.items() if v}
        if present:
            section = data.get("neo4j") or {}
            if isinstance(section, BaseModel):
                section = section.model_dump()
            data = {**data, "neo4j": {**dict(section), **present}}
        return data

    @model_validator(mode="after")
    def _refuse_placeholders(self) -> Self:
        if self.environment is Environment.development:
            return self
        problems = []
        if self.neo4j.password.get_secret_value() in PLACEHOLDER_SECRETS:
            problems.append("HS_NEO4J__PASSWORD (or NEO4J_PASSWORD) is a placeholder")
        key = self.ledger.signing_key
        if self.ledger.signing_key_file is None and (
            key is None or key.get_secret_value() in PLACEHOLDER_SECRETS
        ):
            problems.append("set HS_LEDGER__SIGNING_KEY_FILE or HS_LEDGER__SIGNING_KEY")
        for name in ("pseudonym_key", "encryption_key"):
            secret = getattr(self.protection, name)
            if secret is None or secret.get_secret_value() in PLACEHOLDER_SECRETS:
                problems.append(f"set HS_PROTECTION__{name.upper()} (32 bytes, hex)")
        if problems:
            raise ValueError(f"refusing to start in {self.environment}: " + "; ".join(problems))
        return self

    @property
    def uses_local_neo4j(self) -> bool:
        """True unless NEO4J_URI / HS_NEO4J__URI names another server."""
        return self.neo4j.uri is None

    @property
    def neo4j_uri(self) -> str:
        """The Bolt URI the service connects to."""
        return self.neo4j.uri or f"bolt://127.0.0.1:{self.local_neo4j.bolt_port}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once on first use (never at import time)."""
    return Settings()
