"""Repeats decided on remembered facts, against the real Neo4j: one round trip, and every change
the recording statement reads under the ledger head's lock is seen, even one this process did not
make and the ledger did not record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from neo4j import AsyncManagedTransaction

from kgservice.auth.models import Principal
from kgservice.auth.service import authenticate
from kgservice.decisions import engine
from kgservice.decisions import repository as repo
from kgservice.decisions.engine import DecisionEngine
from kgservice.decisions.rules import RedLines
from kgservice.decisions.schemas import DecisionIn, DecisionOut
from kgservice.errors import NotAuthenticated, ShieldError
from kgservice.graph.database import Graph, Runner
from kgservice.ledger.canonical import utc_text
from kgservice.ledger.service import Ledger
from kgservice.settings import DecisionEngineSettings
from tests.integration.ledgerkit import run, verify

pytestmark = pytest.mark.anyio

VISIT = {
    "kind": "access",
    "purpose": "treatment",
    "legal_basis": "contract",
    "holder": "clinic-b",
    "categories": ["health_status"],
    "max_level": 3,
}


Decided = DecisionOut | ShieldError


class Deciding:
    """A decision engine as the service runs it, counting the lookups it sends; each decision's
    outcome is its answer or the error refusing it."""

    def __init__(self, graph: Graph, ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
        self.graph, self.ledger = graph, ledger
        self.engine = DecisionEngine(graph, ledger, DecisionEngineSettings())
        self.lookups = 0
        real = repo.lookup

        async def counting(tx: Runner, asks: list[dict[str, Any]], now: str) -> Any:
            self.lookups += 1
            return await real(tx, asks, now)

        monkeypatch.setattr(repo, "lookup", counting)

    async def __call__(self, key: str, **change: Any) -> Decided:
        return await self.decide(await principal_of(self.graph, key), **change)

    async def decide(self, principal: Principal, **change: Any) -> Decided:
        request = DecisionIn.model_validate({**VISIT, **change})
        try:
            return await self.engine.decide(principal, request)
        except ShieldError as e:
            return e


@pytest.fixture
def deciding(graph: Graph, ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> Deciding:
    return Deciding(graph, ledger, monkeypatch)


def _iso(delta: timedelta) -> str:
    return utc_text(datetime.now(UTC) + delta)


async def principal_of(graph: Graph, key: str) -> Principal:
    principal = await graph.read(authenticate, key)
    assert principal is not None
    return principal


async def use_grant(graph: Graph, valid_until: str) -> None:
    """clinic-b lets hosp-a use its health-status data for treatment, written straight into the
    graph: not through this process, and not on the ledger."""
    await run(
        graph,
        """
        CREATE (:Grant {id: 'grant-test', right: 'use', holder: 'clinic-b', grantee: 'hosp-a',
                        purposes: ['treatment'], categories: ['health_status'], max_level: 3,
                        valid_from: $start, valid_until: $until, granted_by: 'test'})
        """,
        start=_iso(timedelta(days=-1)),
        until=valid_until,
    )


async def counts(graph: Graph) -> tuple[int, int]:
    """Decisions stored and the ledger's size."""

    async def read(tx: AsyncManagedTransaction) -> tuple[int, int]:
        record = await (
            await tx.run("MATCH (h:LedgerHead) RETURN COUNT { (:Decision) } AS d, h.size AS size")
        ).single(strict=True)
        return int(record["d"]), int(record["size"])

    return await graph.read(read)


def verdict(outcome: Decided) -> tuple[str, list[str]]:
    assert not isinstance(outcome, Exception), outcome
    return outcome.verdict.value, [r.rule for r in outcome.reasons]


async def test_a_repeat_is_judged_without_a_lookup_and_recorded_like_the_first(
    graph: Graph, keys: dict[str, str], deciding: Deciding
) -> None:
    await use_grant(graph, _iso(timedelta(days=30)))
    doctor = keys["hosp-a endocrinologist"]
    first = await deciding(doctor)
    assert verdict(first) == ("permit", [])
    assert deciding.lookups == 1
    decided, size = await counts(graph)
    second = await deciding(doctor)
    assert verdict(second) == ("permit", [])
    assert deciding.lookups == 1  # judged on what the first lookup found
    assert not isinstance(first, Exception)
    assert not isinstance(second, Exception)
    assert second.ledger.seq == first.ledger.seq + 1
    assert await counts(graph) == (decided + 1, size + 1)
    # Another request is looked up.
    assert verdict(await deciding(doctor, purpose="research"))[0] == "deny"
    assert deciding.lookups == 2
    assert (await verify(graph, deciding.ledger.signer)).ok


async def test_a_grant_revoked_behind_the_process_s_back_is_seen_under_the_lock(
    graph: Graph, keys: dict[str, str], deciding: Deciding
) -> None:
    await use_grant(graph, _iso(timedelta(days=30)))
    doctor = keys["hosp-a endocrinologist"]
    assert verdict(await deciding(doctor)) == ("permit", [])
    decided, size = await counts(graph)
    # Neither this process nor the ledger sees this: only reading the facts again can.
    await run(
        graph, "MATCH (g:Grant {id: 'grant-test'}) SET g.revoked = $now", now=_iso(timedelta())
    )
    assert verdict(await deciding(doctor)) == ("deny", ["RL-USE-GRANT"])
    assert deciding.lookups == 2  # the remembered facts failed the guard: looked up again
    # The guarded statement wrote nothing; the decision was recorded once.
    assert await counts(graph) == (decided + 1, size + 1)
    assert (await verify(graph, deciding.ledger.signer)).ok


async def test_a_grant_that_expires_meanwhile_is_seen_at_the_repeat_s_time(
    graph: Graph, keys: dict[str, str], deciding: Deciding, monkeypatch: pytest.MonkeyPatch
) -> None:
    await use_grant(graph, _iso(timedelta(hours=1)))
    doctor = keys["hosp-a endocrinologist"]
    assert verdict(await deciding(doctor)) == ("permit", [])
    later = _iso(timedelta(hours=2))
    monkeypatch.setattr(engine, "utc_now", lambda: later)
    denied = await deciding(doctor)
    assert verdict(denied) == ("deny", ["RL-USE-GRANT"])
    assert not isinstance(denied, Exception)
    assert denied.decided == later
    assert deciding.lookups == 2


async def test_a_principal_revoked_behind_the_process_s_back_is_refused_and_nothing_written(
    graph: Graph, keys: dict[str, str], deciding: Deciding
) -> None:
    await use_grant(graph, _iso(timedelta(days=30)))
    doctor = keys["hosp-a endocrinologist"]
    principal = await principal_of(graph, doctor)
    assert verdict(await deciding(doctor)) == ("permit", [])
    decided, size = await counts(graph)
    await run(
        graph,
        "MATCH (p:Principal {id: $id}) SET p.revoked = $now",
        id=principal.id,
        now=_iso(timedelta()),
    )
    outcome = await deciding.decide(principal)  # authenticated before
    assert isinstance(outcome, NotAuthenticated)
    assert await counts(graph) == (decided, size)
    # A refused request is not remembered: it is looked up every time.
    assert len(deciding.engine.remembered) == 0


async def test_a_rule_set_activated_behind_the_process_s_back_is_seen(
    graph: Graph, keys: dict[str, str], deciding: Deciding
) -> None:
    doctor = keys["hosp-a endocrinologist"]
    assert verdict(await deciding(doctor)) == ("deny", ["RL-USE-GRANT"])
    # Rules without the use-grant red line become active, written straight into the graph.
    shipped = deciding.engine.rulesets.default.rules_text
    at = shipped.index("hs:RL-USE-GRANT a sh:NodeShape")
    old = "sh:targetClass hs:ForeignUse"
    target = shipped.index(old, at)
    text = shipped[:target] + "sh:targetClass hs:NoSuchClass" + shipped[target + len(old) :]
    assert text != shipped
    other = RedLines(rules=text).rule_set
    await run(
        graph,
        "CREATE (:RuleSet {hash: $hash, text: $text, status: 'active'})",
        hash=other,
        text=text,
    )
    again = await deciding(doctor)
    assert verdict(again) == ("permit", [])
    assert not isinstance(again, Exception)
    assert again.rule_set == other
    assert deciding.lookups == 2
