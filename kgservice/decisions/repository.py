"""All Cypher for decisions."""

from __future__ import annotations

from typing import Any

from kgservice.consents.repository import IN_FORCE_AND_COVERS as CONSENT_COVERS
from kgservice.grants.repository import IN_FORCE_AND_COVERS as GRANT_COVERS
from kgservice.graph.database import Runner
from kgservice.graph.plans import fixed
from kgservice.graph.schema import SchemaPart
from kgservice.ledger.repository import Write

SCHEMA = SchemaPart(
    constraints=(
        "CREATE CONSTRAINT decision_id IF NOT EXISTS FOR (d:Decision) REQUIRE d.id IS UNIQUE",
    )
)

# Made in the ledger append's statement, with the decisions' entries (Ledger.append's writes).
CREATE_MANY = """
UNWIND $rows AS r
CREATE (d:Decision {id: r.id, kind: r.kind, holder: r.holder, requester: r.requester,
                    user: r.user, verdict: r.verdict, override: r.override, rules: r.rules,
                    rule_set: r.rule_set, request: r.request, facts: r.facts,
                    justification: r.justification, decided: r.decided})
WITH d, r
MATCH (i:Institution {id: r.holder}) USING INDEX i:Institution(id)
CREATE (d)-[:CONCERNS]->(i)
"""
# Everything a batch of decisions is judged on, in one round trip: the active rule set and, per
# request ``q``, whether the asking principal is still active (the endpoint authenticates a key
# seen before without a lookup: kgservice/auth/seen.py), whether its holder is registered,
# consent coverage per patient, and whether a use or operation right covers it. Each part asks
# the same question as its own module's query (the conditions are shared). One round trip for
# all of it: round trips are what limits decisions per second (docs/performance.md).
_ACTIVE = """
CALL {
  OPTIONAL MATCH (r:RuleSet {status: 'active'}) USING INDEX r:RuleSet(status)
  RETURN r.hash AS active LIMIT 1
}
"""
_FACTS = f"""
CALL {{
  WITH q
  OPTIONAL MATCH (p:Principal {{id: q.principal}}) USING INDEX p:Principal(id)
  RETURN p IS NOT NULL AND p.revoked IS NULL AS principal_active LIMIT 1
}}
CALL {{
  WITH q
  OPTIONAL MATCH (i:Institution {{id: q.holder}}) USING INDEX i:Institution(id)
  RETURN i IS NOT NULL AS known LIMIT 1
}}
CALL {{
  WITH q
  UNWIND q.patients AS ps
  OPTIONAL MATCH (c:Consent {{patient: ps, holder: q.holder}})
  USING INDEX c:Consent(patient, holder)
  WHERE {CONSENT_COVERS}
  WITH ps, count(c) > 0 AS consented, count(CASE WHEN c.separate THEN 1 END) > 0 AS separately
  RETURN collect({{patient: ps, consented: consented, separately: separately}}) AS coverage
}}
CALL {{
  WITH q
  OPTIONAL MATCH (g:Grant {{right: 'use', holder: q.holder, grantee: q.grantee}})
  USING INDEX g:Grant(holder, grantee)
  WHERE q.purpose IS NOT NULL AND {GRANT_COVERS}
  RETURN count(g) > 0 AS use
}}
CALL {{
  WITH q
  OPTIONAL MATCH (g:Grant {{right: 'operation', holder: q.holder, grantee: q.grantee}})
  USING INDEX g:Grant(holder, grantee)
  WHERE q.purpose IS NOT NULL AND q.product IS NOT NULL AND {GRANT_COVERS}
    AND g.product = q.product
  RETURN count(g) > 0 AS operation
}}
"""
LOOKUP = fixed(f"""{_ACTIVE}
UNWIND $asks AS q
{_FACTS}
RETURN active, q.n AS n, principal_active, known, coverage, use, operation
""")
# The same facts read again where a batch judged on remembered ones is recorded: a subquery of
# the ledger append's statement, run once the head's lock is held (``Ledger.append_autocommit``'s
# guard), which writes nothing unless every request's facts and the active rule set are as
# remembered (``q.seen``). One row however many requests: aggregation without grouping keys.
# Coverage is compared as a set: a patient appears once in each.
UNCHANGED = f"""{_ACTIVE}
UNWIND $remembered.asks AS q
{_FACTS}
WITH coalesce(active, '') = coalesce($remembered.active, '')
     AND principal_active = q.seen.principal_active AND known = q.seen.known
     AND use = q.seen.use AND operation = q.seen.operation
     AND size(coverage) = size(q.seen.coverage)
     AND all(c IN coverage WHERE c IN q.seen.coverage) AS same
RETURN count(same) = size($remembered.asks) AND all(s IN collect(same) WHERE s) AS holds
"""


async def lookup(
    tx: Runner, asks: list[dict[str, Any]], now: str
) -> tuple[str | None, list[dict[str, Any]]]:
    """The active rule-set hash (or None) and, for each of ``asks`` (principal, holder, patients,
    purpose, categories, level, grantee, product) in order: ``principal_active``, ``known``,
    ``coverage`` (one row per patient, sorted by patient), ``use`` and ``operation`` (bool)."""
    numbered = [dict(ask, n=n) for n, ask in enumerate(asks)]
    result = await tx.run(LOOKUP, asks=numbered, now=now)
    rows = sorted([dict(r) async for r in result], key=lambda row: row["n"])
    if [row["n"] for row in rows] != list(range(len(asks))):
        raise RuntimeError("the decision lookup did not return one row per request")
    active = rows[0]["active"] if rows else None
    for row in rows:
        row["coverage"] = sorted(row["coverage"], key=lambda c: c["patient"])
    return active, rows


FACTS = ("principal_active", "known", "coverage", "use", "operation")


def unchanged(
    asks: list[dict[str, Any]], active: str | None, rows: list[dict[str, Any]], now: str
) -> Write:
    """The guard for a batch judged on remembered facts: ``UNCHANGED`` with the lookup's
    parameters per request (``asks``), the facts it was judged on (``rows``, in order) and
    the rule set (``active``) at ``now``. Returns ``holds``."""
    seen = [dict(ask, seen={k: row[k] for k in FACTS}) for ask, row in zip(asks, rows, strict=True)]
    return UNCHANGED, {"remembered": {"asks": seen, "active": active}, "now": now}
