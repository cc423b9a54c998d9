"""The facts a decision request was last judged on, kept to judge its repeats without a lookup.

A repeat (same principal, holder, patients, purpose, categories, level, grantee and product) is
judged on the remembered facts, and the statement that records it reads them again once it holds
the ledger head's lock, writing nothing unless they are unchanged (``repository.UNCHANGED``).
So a remembered fact is never what a decision rests on without being read in the transaction
that records it, whatever changed it meanwhile: a grant revoked by another process, a consent
that expired with time, a rule set activated. Only facts that let a request be judged are kept:
a request refused by the lookup (revoked principal, unknown holder) is looked up every time.
"""

from __future__ import annotations

from typing import Any

Key = tuple[object, ...]


def key(params: dict[str, Any]) -> Key:
    """A request's lookup parameters (``service.lookup_params``) as a dictionary key."""
    return tuple(
        (name, tuple(value) if isinstance(value, list) else value)
        for name, value in sorted(params.items())
    )


class RememberedFacts:
    """The active rule-set hash and the lookup's row per request key.

    What is kept weighs at most ``limit``, counted as requests plus the patients they name
    (``DecisionEngineSettings.remembered_facts``). The oldest requests are dropped first; one
    heavier than the whole limit is not kept."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.weight = 0  # of what is kept: ``_weight`` summed
        self._rows: dict[Key, tuple[str | None, dict[str, Any], int]] = {}

    def __len__(self) -> int:
        return len(self._rows)

    def get(self, params: list[dict[str, Any]]) -> tuple[str | None, list[dict[str, Any]]] | None:
        """The rule set and every request's row, if all are remembered under one rule set."""
        found = [self._rows.get(key(p)) for p in params]
        if not found or any(f is None for f in found):
            return None
        actives = {f[0] for f in found if f is not None}
        if len(actives) != 1:
            return None
        return actives.pop(), [f[1] for f in found if f is not None]

    def put(
        self, params: list[dict[str, Any]], active: str | None, rows: list[dict[str, Any]]
    ) -> None:
        """Remember what a lookup found; a refused request's row is not kept."""
        for p, row in zip(params, rows, strict=True):
            k = key(p)
            self._drop(k)  # re-inserted last: the newest is dropped last
            weight = 1 + len(p["patients"])
            if row["principal_active"] and row["known"] and weight <= self.limit:
                self._rows[k] = (active, row, weight)
                self.weight += weight
        while self.weight > self.limit:
            self._drop(next(iter(self._rows)))

    def forget(self, params: list[dict[str, Any]]) -> None:
        for p in params:
            self._drop(key(p))

    def _drop(self, k: Key) -> None:
        dropped = self._rows.pop(k, None)
        if dropped is not None:
            self.weight -= dropped[2]
