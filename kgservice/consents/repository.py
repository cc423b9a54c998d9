"""All Cypher for consents."""

from __future__ import annotations

from typing import Any

from neo4j import AsyncManagedTransaction

from kgservice.graph.schema import SchemaPart

SCHEMA = SchemaPart(
    constraints=(
        "CREATE CONSTRAINT consent_id IF NOT EXISTS FOR (c:Consent) REQUIRE c.id IS UNIQUE",
    ),
    # The decision lookup's, which keeps its plan (kgservice/decisions/repository.py).
    indexes=(
        "CREATE INDEX consent_patient_holder IF NOT EXISTS "
        "FOR (c:Consent) ON (c.patient, c.holder)",
    ),
)

_FIELDS = (
    "c {.id, .holder, .patient, .purposes, .categories, .separate, .valid_from, .valid_until, "
    ".created, .revoked} AS consent"
)
CREATE = f"""
MERGE (p:Patient {{pseudonym: $patient}})
CREATE (c:Consent {{id: $id, holder: $holder, patient: $patient, purposes: $purposes,
                    categories: $categories, separate: $separate, valid_from: $valid_from,
                    valid_until: $valid_until, created: $created}})
CREATE (c)-[:GIVEN_BY]->(p)
RETURN {_FIELDS}
"""
REVOKE = f"""
MATCH (c:Consent {{id: $id}}) WHERE c.revoked IS NULL
SET c.revoked = $time
RETURN {_FIELDS}
"""
GET = f"MATCH (c:Consent {{id: $id}}) RETURN {_FIELDS}"
# Is consent c in force now, and does it cover the purpose and every requested category?
# Asked per patient of each request ``q`` (purpose, categories) by the decision lookup
# (kgservice/decisions/repository.py), which also asks whether one of them is a separate consent
# (单独同意); kept with the consents it is about.
IN_FORCE_AND_COVERS = """
c.revoked IS NULL AND c.valid_from <= $now AND (c.valid_until IS NULL OR c.valid_until > $now)
AND q.purpose IN c.purposes AND all(cat IN q.categories WHERE cat IN c.categories)"""


async def create(tx: AsyncManagedTransaction, **props: Any) -> dict[str, Any]:
    record = await (await tx.run(CREATE, props)).single(strict=True)
    return dict(record["consent"])


async def get(tx: AsyncManagedTransaction, consent_id: str) -> dict[str, Any] | None:
    record = await (await tx.run(GET, id=consent_id)).single()
    return None if record is None else dict(record["consent"])


async def revoke(tx: AsyncManagedTransaction, consent_id: str, time: str) -> dict[str, Any] | None:
    record = await (await tx.run(REVOKE, id=consent_id, time=time)).single()
    return None if record is None else dict(record["consent"])
