"""All Cypher for records, sources, fields, patients and contributions."""

from __future__ import annotations

from typing import Any

from neo4j import AsyncManagedTransaction

from kgservice.graph.database import Bulk
from kgservice.graph.schema import SchemaPart

SCHEMA = SchemaPart(
    constraints=(
        # Idempotent submissions: one Source per (institution, SHA-256 of the bytes).
        "CREATE CONSTRAINT source_key IF NOT EXISTS FOR (s:Source) REQUIRE s.key IS UNIQUE",
        "CREATE CONSTRAINT record_id IF NOT EXISTS FOR (r:Record) REQUIRE r.id IS UNIQUE",
        # No constraint on Field.id: a field's id is its record's (unique, above) plus its
        # position, so it cannot repeat, and the index behind a constraint cost ~15 % of Neo4j's
        # work per stored field (docs/performance.md). Dropped on a graph that has it.
        "DROP CONSTRAINT field_id IF EXISTS",
        "CREATE CONSTRAINT patient_pseudonym IF NOT EXISTS "
        "FOR (p:Patient) REQUIRE p.pseudonym IS UNIQUE",
    ),
    indexes=(
        "CREATE INDEX field_kind IF NOT EXISTS FOR (f:Field) ON (f.kind)",
        "CREATE INDEX contribution_institution IF NOT EXISTS "
        "FOR (c:Contribution) ON (c.institution)",
    ),
)

SOURCE_RECEIPT = "MATCH (s:Source {key: $key}) RETURN s.receipt AS receipt"
CREATE_SOURCE = """
MATCH (i:Institution {id: $institution})
CREATE (s:Source {key: $key, sha256: $sha256, institution: $institution, reader: $reader,
                  method: $method, format: $format, name: $name, size: $size,
                  received: $received, principal: $principal})
CREATE (s)-[:HELD_BY]->(i)
WITH s
OPTIONAL MATCH (p:Principal {id: $principal})
FOREACH (_ IN CASE WHEN p IS NULL THEN [] ELSE [1] END | CREATE (s)-[:SUBMITTED_BY]->(p))
RETURN s.key AS key
"""
# Records with their fields in one statement: each field is created from its record's row, so
# no per-field index lookup is needed to find the record again.
CREATE_RECORDS = """
MATCH (s:Source {key: $key}), (i:Institution {id: $institution})
UNWIND $records AS r
CREATE (rec:Record {id: r.id, kind: r.kind, institution: r.institution, received: r.received})
CREATE (rec)-[:DERIVED_FROM]->(s), (rec)-[:HELD_BY]->(i)
FOREACH (ps IN CASE WHEN r.patient IS NULL THEN [] ELSE [r.patient] END |
  MERGE (p:Patient {pseudonym: ps})
  CREATE (rec)-[:ABOUT]->(p))
FOREACH (f IN r.fields | CREATE (rec)-[:HAS_FIELD]->(x:Field) SET x = f)
"""
CREATE_CONTRIBUTION = """
MATCH (s:Source {key: $key})
CREATE (c:Contribution {source: $key, institution: $institution, time: $time, records: $records,
                        fields: $fields, completeness: $completeness,
                        rare_conditions: $rare_conditions, flagged: $flagged})
CREATE (c)-[:FOR]->(s)
"""
SET_RECEIPT = "MATCH (s:Source {key: $key}) SET s.receipt = $receipt, s.ledger_seq = $seq"
GET_RECORD = """
MATCH (rec:Record {id: $id})-[:DERIVED_FROM]->(s:Source)
OPTIONAL MATCH (rec)-[:ABOUT]->(p:Patient)
OPTIONAL MATCH (rec)-[:HAS_FIELD]->(f:Field)
WITH rec, s, p, f ORDER BY f.id
RETURN rec {.*} AS record, p.pseudonym AS patient,
       s {.sha256, .reader, .method, .format, .name, .received, .principal, .ledger_seq} AS source,
       collect(f {.*}) AS fields
"""


async def source_receipt(tx: AsyncManagedTransaction, key: str) -> str | None:
    record = await (await tx.run(SOURCE_RECEIPT, key=key)).single()
    return None if record is None else record["receipt"]


async def create_source(tx: AsyncManagedTransaction, **props: Any) -> None:
    record = await (await tx.run(CREATE_SOURCE, props)).single()
    if record is None:
        raise LookupError(f"institution '{props['institution']}' is not registered")


async def create_records(
    tx: AsyncManagedTransaction, key: str, institution: str, records: list[dict[str, Any]]
) -> None:
    """Create records; each row carries its ``fields`` (rows of Field properties)."""
    await (
        await tx.run(CREATE_RECORDS, key=key, institution=institution, records=Bulk(records))
    ).consume()


async def create_contribution(tx: AsyncManagedTransaction, **props: Any) -> None:
    await (await tx.run(CREATE_CONTRIBUTION, props)).consume()


async def set_receipt(tx: AsyncManagedTransaction, key: str, receipt: str, seq: int) -> None:
    await (await tx.run(SET_RECEIPT, key=key, receipt=receipt, seq=seq)).consume()


async def get_record(tx: AsyncManagedTransaction, record_id: str) -> dict[str, Any] | None:
    record = await (await tx.run(GET_RECORD, id=record_id)).single()
    return None if record is None else dict(record)
