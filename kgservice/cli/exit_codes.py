"""Exit codes of `shield`, in one registry so scripts can rely on them."""

from __future__ import annotations

from enum import IntEnum


class Exit(IntEnum):
    ok = 0
    failure = 1  # the check ran and found a problem (e.g. the ledger does not verify)
    usage = 2  # bad arguments (Typer's own code)
    environment = 3  # a prerequisite is missing: Java, Maven, a key, a reachable Neo4j
    not_found = 4
    conflict = 5
