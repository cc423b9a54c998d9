"""All Cypher for decisions."""

from __future__ import annotations

from typing import Any

from neo4j import AsyncManagedTransaction

from kgservice.consents.repository import IN_FORCE_AND_COVERS as CONSENT_COVERS
from kgservice.grants.repository import IN_FORCE_AND_COVERS as GRANT_COVERS

CREATE = """
CREATE (d:Decision {id: $id, kind: $kind, holder: $holder, requester: $requester, user: $user,
                    verdict: $verdict, override: $override, rules: $rules, rule_set: $rule_set,
                    request: $request, facts: $facts, justification: $justification,
                    decided: $decided})
WITH d
MATCH (i:Institution {id: $holder})
CREATE (d)-[:CONCERNS]->(i)
"""
# Everything a decision is judged on, in one round trip: whether the holder is registered, the
# active rule set, consent coverage per patient, and whether a use or operation right covers the
# request. Each part asks the same question as its own module's query (the conditions are
# shared); a decision used to spend five round trips here, and round trips inside the shared
# write transaction are what limits decisions per second (bench/decisions.py).
LOOKUP = f"""
OPTIONAL MATCH (i:Institution {{id: $holder}})
WITH i IS NOT NULL AS known LIMIT 1
CALL {{
  OPTIONAL MATCH (r:RuleSet {{status: 'active'}})
  RETURN r.hash AS active LIMIT 1
}}
CALL {{
  UNWIND $patients AS ps
  OPTIONAL MATCH (c:Consent {{patient: ps, holder: $holder}})
  WHERE {CONSENT_COVERS}
  WITH ps, count(c) > 0 AS consented, count(CASE WHEN c.separate THEN 1 END) > 0 AS separately
  RETURN collect({{patient: ps, consented: consented, separately: separately}}) AS coverage
}}
CALL {{
  OPTIONAL MATCH (g:Grant {{right: 'use', holder: $holder, grantee: $grantee}})
  WHERE $purpose IS NOT NULL AND {GRANT_COVERS}
  RETURN count(g) > 0 AS use
}}
CALL {{
  OPTIONAL MATCH (g:Grant {{right: 'operation', holder: $holder, grantee: $grantee}})
  WHERE $purpose IS NOT NULL AND $product IS NOT NULL AND {GRANT_COVERS}
    AND g.product = $product
  RETURN count(g) > 0 AS operation
}}
RETURN known, active, coverage, use, operation
"""


async def create(tx: AsyncManagedTransaction, **props: Any) -> None:
    await (await tx.run(CREATE, props)).consume()


async def lookup(
    tx: AsyncManagedTransaction, *, holder: str, patients: list[str], purpose: str | None,
    categories: list[str], level: int, grantee: str, product: str | None, now: str,
) -> dict[str, Any]:  # fmt: skip
    """``known``, ``active`` (rule-set hash or None), ``coverage`` (one row per patient, sorted
    by patient), ``use`` and ``operation`` (bool)."""
    record = await (await tx.run(
        LOOKUP, holder=holder, patients=patients, purpose=purpose, categories=categories,
        level=level, grantee=grantee, product=product, now=now,
    )).single(strict=True)  # fmt: skip
    found = dict(record)
    found["coverage"] = sorted(found["coverage"], key=lambda row: row["patient"])
    return found
