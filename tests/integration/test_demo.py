"""The diabetes-alliance demo's data, seeded as `shield demo` does: every institution's files go
through the real ingest path, the handwritten sheet and the note included."""

from __future__ import annotations

import pytest

from ingest.grading import Grader
from ingest.pipeline import Pipeline
from ingest.readers.meter import load_mappings
from kgservice.demo import seed_records
from kgservice.graph.database import Graph
from kgservice.ledger.service import Ledger
from kgservice.records.protection import Protector, load_protector
from kgservice.settings import Settings
from tests.integration.ledgerkit import verify

pytestmark = pytest.mark.anyio


async def test_every_demo_file_is_accepted_and_the_scan_links_to_the_note(
    graph: Graph, ledger: Ledger, keys: dict[str, str], settings: Settings
) -> None:
    protector: Protector = load_protector(settings)
    pipeline = Pipeline(Grader.from_directory(), load_mappings())
    receipts = await seed_records(graph, ledger, protector, pipeline, keys)
    readers = {r.reader.split(" ")[0] for r in receipts}
    assert {"fhir-r4", "json/v1", "scan/ocr", "note/zh"} <= readers
    scan = next(r for r in receipts if r.reader.startswith("scan/ocr"))
    note = next(r for r in receipts if r.reader.startswith("note/zh"))
    # The same patient on paper and in the note: one pseudonym links the two sources.
    assert scan.records[0].patient is not None
    assert scan.records[0].patient == note.records[0].patient
    assert (await verify(graph, ledger.signer)).ok
