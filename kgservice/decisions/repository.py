"""All Cypher for decisions."""

from __future__ import annotations

from typing import Any

from neo4j import AsyncManagedTransaction

CREATE = """
CREATE (d:Decision {id: $id, kind: $kind, holder: $holder, requester: $requester, user: $user,
                    verdict: $verdict, override: $override, rules: $rules, rule_set: $rule_set,
                    request: $request, facts: $facts, justification: $justification,
                    decided: $decided})
WITH d
MATCH (i:Institution {id: $holder})
CREATE (d)-[:CONCERNS]->(i)
"""


async def create(tx: AsyncManagedTransaction, **props: Any) -> None:
    await (await tx.run(CREATE, props)).consume()
