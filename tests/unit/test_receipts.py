"""A submission's receipt, made as JSON from the stored rows, says what the models say."""

from __future__ import annotations

import json
import random

import pytest

from ingest.grading import Grader
from ingest.pipeline import Pipeline
from ingest.readers.meter import load_mappings
from ingest.synthetic.samples import json_document
from kgservice.ledger.schemas import CheckpointOut, ReceiptOut
from kgservice.records import storage
from kgservice.records.contribution import Contribution
from kgservice.records.protection import Protector
from kgservice.records.schemas import ContributionOut, FieldTag, RecordReceipt, SubmissionReceipt
from kgservice.records.service import receipt_json

LEDGER = ReceiptOut(
    seq=7,
    leaf_hash="ab" * 32,
    inclusion_proof=["cd" * 32],
    checkpoint=CheckpointOut(
        origin="o",
        size=8,
        root="ef" * 32,
        time="2026-11-30T00:00:00Z",
        key_id="k",
        signature="c2ln",
    ),
)


def _skeleton(prepared: storage.Prepared, records: list[RecordReceipt]) -> SubmissionReceipt:
    contribution = prepared.contribution
    assert isinstance(contribution, Contribution)
    return SubmissionReceipt(
        sha256=prepared.digest,
        institution=prepared.institution,
        reader=prepared.reader,
        received=prepared.received,
        duplicate=False,
        records=records,
        warnings=prepared.warnings,
        contribution=ContributionOut.model_validate(contribution.as_json()),
        ledger=LEDGER,
    )


def test_the_receipt_made_from_rows_is_the_one_the_models_make() -> None:
    data = json.dumps(json_document(random.Random(3), 40), ensure_ascii=False).encode()
    pipeline = Pipeline(Grader.from_directory(), load_mappings())
    # Every field's location names the file: here with what JSON escapes, and Han characters.
    checked = pipeline.check(data, "json", '随访 "b"\\\t.json', "clinic-b")
    prepared = storage.prepare(
        Protector(b"\x01" * 32, b"\x02" * 32), checked, "clinic-b", "2026-11-30T00:00:00Z"
    )
    assert not prepared.violations
    by_models = [
        RecordReceipt(
            id=r["id"],
            kind=r["kind"],
            patient=r["patient"],
            fields=[FieldTag(**{k: f[k] for k in storage.TAG_KEYS}) for f in r["fields"]],
        )
        for r in prepared.records
    ]
    assert sum(len(r.fields) for r in by_models) > 400
    text = receipt_json(_skeleton(prepared, []), prepared.receipt_records)
    assert SubmissionReceipt.model_validate_json(text) == _skeleton(prepared, by_models)
    assert json.loads(text) == json.loads(_skeleton(prepared, by_models).model_dump_json())


def test_a_skeleton_must_have_no_records() -> None:
    prepared = storage.Prepared(
        "0" * 64, "clinic-b", "json", "m", "t", 0, [], [], [], Contribution(0, 0, 1.0, 0, 0), "[]"
    )
    record = RecordReceipt(id="r", kind="PatientRecord", patient=None, fields=[])
    with pytest.raises(ValueError, match="one empty list"):
        receipt_json(_skeleton(prepared, [record]), "[]")
    assert json.loads(receipt_json(_skeleton(prepared, []), "[]"))["records"] == []
