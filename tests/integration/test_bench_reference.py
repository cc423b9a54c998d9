"""The ingest benchmark's reference (bench/ingest.py ``raw_write``) stores the same nodes and
relationships for a file's records as ingest itself: the same records, fields (every property
but the key prefix), patients, and the relationships between them and to the source and the
institution. Only then is "ingest/raw" the cost of ingest over writing the same graph."""

from __future__ import annotations

from typing import Any

import pytest

from bench.ingest import RAW, SYSTEM, files, raw_write
from kgservice.graph.database import Graph
from kgservice.institutions import service as institutions
from kgservice.institutions.schemas import InstitutionIn, Tier
from kgservice.ledger.canonical import utc_now
from kgservice.ledger.service import Ledger
from kgservice.records import service
from kgservice.records.checking import Checker
from kgservice.records.protection import load_protector
from kgservice.settings import Settings

pytestmark = pytest.mark.anyio

SHAPE = """
MATCH (r:Record) WHERE (r.id STARTS WITH $raw) = $is_raw
MATCH (r)-[:DERIVED_FROM]->(s:Source)-[:HELD_BY]->(si:Institution)
MATCH (r)-[:HELD_BY]->(i:Institution)
OPTIONAL MATCH (r)-[:ABOUT]->(p:Patient)
WITH r, s, si, i, p
OPTIONAL MATCH (r)-[:HAS_FIELD]->(f:Field)
WITH r, s, si, i, p, collect(f {.*}) AS fields
RETURN r {.kind, .institution, .received, id: substring(r.id, $cut)} AS record,
       count { (r)--() } AS degree, s.institution AS source, si.id AS source_held_by,
       i.id AS held_by, substring(p.pseudonym, $cut) AS patient, fields
ORDER BY record.id
"""


async def _shape(graph: Graph, is_raw: bool) -> list[dict[str, Any]]:
    async def read(tx: Any) -> list[dict[str, Any]]:
        cut = len(RAW) if is_raw else 0
        result = await tx.run(SHAPE, raw=RAW, is_raw=is_raw, cut=cut)
        rows = [dict(r) async for r in result]
        for row in rows:
            for f in row["fields"]:
                f["id"] = f["id"][cut:]
            row["fields"].sort(key=lambda f: f["id"])
        return rows

    return await graph.read(read)


@pytest.mark.parametrize("fmt", ["json", "fhir", "xlsx"])
async def test_the_raw_write_stores_the_graph_ingest_stores(
    graph: Graph, ledger: Ledger, checker: Checker, settings: Settings, fmt: str
) -> None:
    clinic = InstitutionIn(id="bench-clinic", name="bench", tier=Tier.other)
    await graph.write(institutions.register, ledger, "bench", clinic)
    (data,) = files(12, 1, seed=3)[fmt]
    protector = load_protector(settings)
    prepared = await checker.prepare(data, fmt, "f", "bench-clinic", protector, utc_now())
    assert not prepared.violations
    await graph.write(service.submit, ledger, SYSTEM, "bench-clinic", prepared, fmt, "f", len(data))
    seconds = await raw_write(graph, "f", prepared.records)
    assert seconds > 0
    ingested = await _shape(graph, is_raw=False)
    raw = await _shape(graph, is_raw=True)
    assert len(ingested) == prepared.count
    assert sum(len(r["fields"]) for r in ingested) > prepared.count
    assert raw == ingested
