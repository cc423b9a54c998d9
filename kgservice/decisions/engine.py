"""The decision engine: the one way a decision request is decided, and every mechanism that
makes deciding fast, in one place.

``DecisionEngine.decide`` takes one request and its principal and answers with the recorded
decision (or raises the error refusing the request). Every caller goes through it: the
endpoint, training jobs, the scenario. Inside, concurrent requests are decided together
(``Batcher``, kgservice/graph/grouping.py): per batch one lookup of the facts, one red-line run,
one statement that writes the decisions, their review items and their ledger entries. The
engine owns what it keeps between batches: the facts each request was last judged on
(``RememberedFacts``), the rule sets loaded so far with the findings each remembers
(``RuleSetCache``, ``RedLines``), and the ledger's guess of its head (``Ledger``). Its tuning
values are ``DecisionEngineSettings`` (kgservice/settings.py).

A batch costs one or two round trips to Neo4j, each an auto-commit transaction:

1. A batch whose every request is remembered is judged on the remembered facts and recorded by
   one statement that reads those facts again once it holds the ledger head's lock and writes
   nothing unless they, the active rule set and the head are as expected
   (``repository.UNCHANGED``, ``Ledger.append_autocommit``'s guard).
2. Otherwise (or if that wrote nothing) the facts are looked up in one auto-commit read, the
   batch is judged, and recorded by one auto-commit statement (``Ledger.append_autocommit``);
   if that finds the head moved by another process, or the server fails it as a deadlock's
   victim, it has written nothing and the batch is written in a transaction instead
   (``Ledger.append``), which reads the head under its lock.

The outcome is that of one transaction: there, too, the lookup takes no locks (Neo4j reads
committed data), so a grant revoked after it is read is not seen either way. A request whose
principal was revoked gets its 401, one whose holder is not registered its 422, and nothing of
either is written; the others are decided as if they had come alone.
"""

from __future__ import annotations

from kgservice.auth.models import Principal
from kgservice.decisions import repository as repo
from kgservice.decisions.remembered import RememberedFacts
from kgservice.decisions.rulecache import RuleSetCache
from kgservice.decisions.rules import RedLines
from kgservice.decisions.schemas import DecisionIn, DecisionOut
from kgservice.decisions.service import (
    Ask,
    Decided,
    LookedUp,
    from_lookup,
    judge_batch,
    lookup_params,
)
from kgservice.errors import GraphUnavailable
from kgservice.graph.database import Graph, Runner
from kgservice.graph.grouping import Batcher
from kgservice.ledger.canonical import utc_now
from kgservice.ledger.service import Ledger
from kgservice.settings import DecisionEngineSettings


class DecisionEngine:
    """Decides requests for one process: build one in the lifespan, and decide through it."""

    def __init__(self, graph: Graph, ledger: Ledger, settings: DecisionEngineSettings) -> None:
        self.graph = graph
        self.ledger = ledger
        self.rulesets = RuleSetCache(RedLines(), settings)
        self.remembered = RememberedFacts(settings.remembered_facts)
        self._batcher: Batcher[Ask, DecisionOut] = Batcher(
            self._decide_batch, settings.batch_size, settings.in_flight
        )

    async def decide(self, principal: Principal, request: DecisionIn) -> DecisionOut:
        """Decide ``request`` for ``principal`` and record it: the decision, any review item
        and its ledger entries, all or nothing. Answers once it has committed. Raises the
        ``ShieldError`` refusing the request (nothing of it written), or ``GraphUnavailable``
        when Neo4j failed: before anything was written, or once the recording statement may
        have committed, when whether the decision was recorded is not known."""
        return await self._batcher.submit(Ask(principal, request))

    async def rules_in_force(self, tx: Runner) -> RedLines:
        """The rule set decisions are judged by now, as ``tx`` reads the active one: the same
        object the engine judges with (for a rule-set replay, which judges without recording:
        ``RedLines.check``)."""
        return await self.rulesets.active(tx)

    @property
    def batches(self) -> int:
        """Batches of more than one request decided so far (for tests and the bench)."""
        return self._batcher.batches

    async def _decide_batch(self, asks: list[Ask]) -> list[Decided]:
        """One outcome per request, in order. Raises only when nothing was written, so the
        batcher may decide the requests again one by one; once a statement may have committed,
        a failure is every request's outcome instead."""
        outcomes = await self._decide_remembered(asks)
        if outcomes is not None:
            return outcomes
        now = utc_now()

        async def read(session: Runner) -> tuple[RedLines, list[LookedUp]]:
            params = [lookup_params(a) for a in asks]
            active, rows = await repo.lookup(session, params, now)
            self.remembered.put(params, active, rows)
            return await self.rulesets.resolve(session, active), from_lookup(asks, rows)

        redlines, looked_up = await self.graph.read_autocommit(read)
        batch = judge_batch(redlines, asks, looked_up, now)
        if not batch.judged:
            return batch.outcomes([])
        try:
            receipts = await self.graph.write_autocommit(
                self.ledger.append_autocommit, batch.events, batch.writes
            )
            if receipts is None:  # nothing written: the head moved, or a deadlock
                receipts = await self.graph.write(self.ledger.append, batch.events, batch.writes)
        except GraphUnavailable as e:  # the connection failed: committed or not, it is not known
            return [e] * len(asks)
        return batch.outcomes(receipts)

    async def _decide_remembered(self, asks: list[Ask]) -> list[Decided] | None:
        """Decide a batch of repeats in one round trip, on the facts they were last judged on,
        which the recording statement reads again under the head's lock; or None when nothing
        was written: a request not remembered, or facts, rule set or head not as expected."""
        params = [lookup_params(a) for a in asks]
        found = self.remembered.get(params)
        redlines = None if found is None else self.rulesets.loaded(found[0])
        if found is None or redlines is None:
            return None
        active, rows = found
        now = utc_now()
        batch = judge_batch(redlines, asks, from_lookup(asks, rows), now)
        guard = repo.unchanged(params, active, rows, now)
        try:
            receipts = await self.graph.write_autocommit(
                self.ledger.append_autocommit, batch.events, batch.writes, guard
            )
        except GraphUnavailable as e:  # the connection failed: committed or not, it is not known
            return [e] * len(asks)
        if receipts is None:
            self.remembered.forget(params)
            return None
        return batch.outcomes(receipts)
