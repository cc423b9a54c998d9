"""Keys that have authenticated, for endpoints that check the principal again in their own
transaction (``AllowRechecked``, kgservice/auth/access.py).

A principal's id, role and institution never change; only revocation does. An endpoint whose
unit of work confirms that the principal is still active, in the same transaction as the work,
needs no lookup of the key first: a key seen valid before maps to its principal here, and a
revoked principal is refused by the unit of work itself, which commits nothing for it.
"""

from __future__ import annotations

from kgservice.auth import keys
from kgservice.auth.models import Principal

LIMIT = 10_000  # keys remembered per process; a full map starts over


class SeenKeys:
    def __init__(self, limit: int = LIMIT) -> None:
        self.limit = limit
        # By the key's SHA-256, as stored in the graph: no secret is kept in memory longer
        # than its request.
        self._by_hash: dict[str, Principal] = {}

    def get(self, key: str) -> Principal | None:
        return self._by_hash.get(keys.hash_key(key))

    def remember(self, key: str, principal: Principal) -> None:
        if len(self._by_hash) >= self.limit:
            self._by_hash.clear()
        self._by_hash[keys.hash_key(key)] = principal

    def forget(self, principal_id: str) -> None:
        """Drop a principal found revoked (its keys authenticate by lookup again, and fail)."""
        for digest in [d for d, p in self._by_hash.items() if p.id == principal_id]:
            del self._by_hash[digest]
