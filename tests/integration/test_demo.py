"""The diabetes-alliance demo's data, seeded as `shield demo` does: every institution's files go
through the real ingest path, the handwritten sheet and the note included."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from ingest.grading import Grader
from ingest.pipeline import Pipeline
from ingest.readers.meter import load_mappings
from kgservice.decisions.engine import DecisionEngine
from kgservice.demo import CATALOGUE, report, scenario, seed_records, seed_rewards
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
        "clinic-b",
        "clinic-c",
        "hosp-a",
    ]
    assert (await verify(graph, ledger.signer)).ok


async def test_the_scenario_runs_end_to_end_and_writes_its_report(
    graph: Graph, ledger: Ledger, keys: dict[str, str], settings: Settings, tmp_path: Path
) -> None:
    pipeline = Pipeline(Grader.from_directory(), load_mappings())
    await seed_records(graph, ledger, load_protector(settings), pipeline, keys)
    await seed_rewards(graph, ledger, keys)
    steps: list[str] = []
    outcome = await scenario.run(
        graph,
        ledger,
        DecisionEngine(graph, ledger, settings.decisions),
        settings.training,
        load_protector(settings),
        keys,
        steps.append,
        rounds=2,
    )
    assert len(steps) == 6
    assert outcome.interception is not None
    assert outcome.interception.verdict.value == "deny"
    assert "RL-CORE-EGRESS" in {r.rule for r in outcome.interception.reasons}
    assert outcome.job is not None
    assert outcome.job.status == "completed"
    assert outcome.settlement is not None
    assert sum(outcome.settlement.points.values()) == 1000
    assert outcome.redemption is not None or outcome.redemption_refused is not None
    assert outcome.ledger is not None
    assert outcome.ledger.ok
    path = report.write(outcome, tmp_path / "report")
    text = path.read_text("utf-8")
    assert "## Settlement" in text
    assert "verified" in text
    # The scenario's task is complication risk: its coalitions are valued by ROC AUC, measured
    # on the requester's held-out rows, and the tables say so.
    assert outcome.job.metric == "auc"
    assert "| coalition | v(S), ROC AUC × 100 |" in text
    assert "| round | accuracy at threshold 0.5, % | ROC AUC | ledger entry |" in text
    rows = (outcome.job.examples or {})["hosp-a"]
    assert f"hosp-a's held-out validation rows (about 30% of its {rows} rows)" in text
    assert "validation accuracy" not in text
    for chart in ("payouts.png", "rounds.png"):
        with Image.open(tmp_path / "report" / chart) as image:
            assert image.format == "PNG"
            assert image.size == report.SIZE
            assert len(image.convert("RGB").getcolors(1 << 20) or []) > 50
