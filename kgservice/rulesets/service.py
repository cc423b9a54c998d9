"""Uploading, checking, replaying and activating red-line rule sets.

A steward uploads Turtle. It must parse (errors give line and column), pass the SHACL-for-SHACL
shapes, and give every targeted shape a rule id. The candidate is then replayed over the recorded
past decisions — each request with the facts it was judged on — and every decision whose verdict
or broken rules would change is listed. It becomes active only when a steward and a reviewer have
both approved it; each step is ledgered, and every decision records the hash of the set it used.
"""

from __future__ import annotations

import json
from typing import Any

from neo4j import AsyncManagedTransaction
from pyshacl import validate
from pyshacl.errors import ReportableRuntimeError
from rdflib import Graph
from rdflib.namespace import RDF, SH
from rdflib.plugins.parsers.notation3 import BadSyntax

from ingest.rdf import HS
from kgservice.auth.models import Principal
from kgservice.auth.roles import Role
from kgservice.decisions.engine import DecisionEngine
from kgservice.decisions.rules import Facts, RedLines, verdict
from kgservice.decisions.schemas import DecisionIn
from kgservice.errors import BadRequest, Conflict, NotFound, Unprocessable
from kgservice.ledger.canonical import Event, utc_now
from kgservice.ledger.service import Ledger, Receipt
from kgservice.rulesets import repository as repo
from kgservice.rulesets.schemas import Change, RuleSet

REPLAY_LIMIT = 1000
_IRI = "https://w3id.org/health-shield/id/decision/replay"


def check_text(text: str) -> RedLines:
    """Parse and vet a candidate; raise a 4xx that says what is wrong and where."""
    try:
        g = Graph().parse(data=text, format="turtle")
    except BadSyntax as e:
        # rdflib keeps the character offset and the reason only in these private attributes.
        line = e.lines + 1
        column = e._i - text.rfind("\n", 0, e._i)
        raise BadRequest(f"Turtle syntax error at line {line}, column {column}: {e._why}") from None
    except RecursionError:
        # rdflib parses nested blank nodes and lists by recursion: a few hundred levels do it.
        raise BadRequest("Turtle nested too deeply (blank nodes or lists)") from None
    try:
        validate(Graph(), shacl_graph=g, meta_shacl=True, advanced=True)
    except ReportableRuntimeError as e:
        report = str(e).split("Results", 1)[-1].strip()[:1500]
        raise Unprocessable(f"not valid SHACL (SHACL-for-SHACL): {report}") from None
    targets = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
    anonymous = sorted(
        str(shape)
        for shape in g.subjects(RDF.type, SH.NodeShape)
        if any(g.value(shape, t) is not None for t in targets) and g.value(shape, HS.ruleId) is None
    )
    if anonymous:
        raise Unprocessable("every targeted shape needs hs:ruleId: " + ", ".join(anonymous))
    return RedLines(rules=text)


def replay(current: RedLines, candidate: RedLines, past: list[dict[str, Any]]) -> list[Change]:
    """The past decisions whose verdict or broken rules would change from ``current`` to
    ``candidate``: each request judged on the facts it was judged on, by ``RedLines.check``
    (findings only; nothing is recorded)."""
    changes = []
    for row in past:
        request = DecisionIn.model_validate_json(row["request"])
        facts = Facts(**json.loads(row["facts"]))
        now = current.check(request, facts, _IRI)
        then = candidate.check(request, facts, _IRI)
        before, after = sorted({f.rule.id for f in now}), sorted({f.rule.id for f in then})
        if before != after or verdict(now) != verdict(then):
            changes.append(
                Change(
                    decision=row["id"],
                    verdict_now=verdict(now).value,
                    verdict_candidate=verdict(then).value,
                    rules_now=before,
                    rules_candidate=after,
                )
            )
    return changes


async def upload(
    tx: AsyncManagedTransaction,
    ledger: Ledger,
    engine: DecisionEngine,
    principal: Principal,
    candidate: RedLines,
) -> tuple[RuleSet, int, list[Change], Receipt]:
    """Record a candidate, replayed against the rule set decisions are judged by now (the
    engine's, as loaded and vetted for them)."""
    if await repo.get(tx, candidate.rule_set) is not None:
        raise Conflict(f"rule set {candidate.rule_set} was uploaded before")
    past = await repo.past_decisions(tx, REPLAY_LIMIT)
    changes = replay(await engine.rules_in_force(tx), candidate, past)
    row = await repo.create(tx, candidate.rule_set, candidate.rules_text, principal.id, utc_now())
    summary = {"hash": candidate.rule_set, "replayed": len(past), "changed": len(changes)}
    event = Event("ruleset.uploaded", principal.id, summary)
    (receipt,) = await ledger.append(tx, [event])
    return RuleSet.model_validate(row), len(past), changes, receipt


async def approve(
    tx: AsyncManagedTransaction, ledger: Ledger, principal: Principal, h: str
) -> tuple[RuleSet, Receipt]:
    found = await repo.get(tx, h)
    if found is None:
        raise NotFound(f"no rule set {h}")
    row = await repo.approve(tx, h, principal.id, principal.role is Role.reviewer)
    if row is None:
        raise Conflict(f"rule set {h} is {found[0]['status']}, not a candidate")
    events = [Event("ruleset.approved", principal.id, {"hash": h, "role": principal.role.value})]
    if row.get("approved_by_steward") and row.get("approved_by_reviewer"):
        row = await repo.activate(tx, h, utc_now())
        events.append(Event("ruleset.activated", principal.id, {"hash": h}))
    receipts = await ledger.append(tx, events)
    return RuleSet.model_validate(row), receipts[-1]
