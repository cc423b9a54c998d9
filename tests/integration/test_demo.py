"""The diabetes-alliance demo's data, seeded as `shield demo` does: every institution's files go
through the real ingest path, the handwritten sheet and the note included."""

from __future__ import annotations

import pytest

from ingest.grading import Grader
from ingest.pipeline import Pipeline
from ingest.readers.meter import load_mappings
from kgservice.demo import CATALOGUE, seed_records, seed_rewards
from kgservice.grants import repository as grants_repo
from kgservice.graph.database import Graph
from kgservice.ledger.service import Ledger
from kgservice.records.protection import Protector, load_protector
from kgservice.settings import Settings
from kgservice.settlements import repository as settlements_repo
from kgservice.training.features import dataset
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
    # Every institution holds records usable for the first training task.
    for institution in ("hosp-a", "clinic-b", "clinic-c"):
        assert len(await graph.read(dataset, institution)) >= 8, institution
    # The catalogue and the training use rights are in place, and seeding twice changes nothing.
    await seed_rewards(graph, ledger, keys)
    await seed_rewards(graph, ledger, keys)
    assert len(await graph.read(settlements_repo.list_items)) == len(CATALOGUE)
    grants = await graph.read(grants_repo.list_for, None)
    assert sorted(g["holder"] for g in grants if "model_training" in g["purposes"]) == [
        "clinic-b", "clinic-c", "hosp-a"]  # fmt: skip
    assert (await verify(graph, ledger.signer)).ok
