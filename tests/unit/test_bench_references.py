"""The same-run references of the ingest and ledger benchmarks: the rows the raw write stores
(bench/ingest.py) and the plain read of every ledger entry (bench/ledger.py)."""

from __future__ import annotations

import copy
from typing import Any

from bench.ingest import raw_rows, reference
from bench.ledger import read_all
from kgservice.ledger.verify import BATCH

ROWS: list[dict[str, Any]] = [
    {
        "id": "rec_1",
        "kind": "PatientRecord",
        "institution": "bench-clinic",
        "received": "2026-12-01T00:00:00Z",
        "patient": "ps_1",
        "fields": [
            {"id": "fld_1", "kind": "HbA1c", "value": "7.2", "level": 3},
            {"id": "fld_2", "kind": "PhoneNumber", "value_enc": "x", "pseudonym": "ps_9"},
        ],
    },
    {
        "id": "rec_2",
        "kind": "Device",
        "institution": "bench-clinic",
        "received": "2026-12-01T00:00:00Z",
        "patient": None,
        "fields": [],
    },
]


def test_raw_rows_prefix_every_key_and_keep_every_other_value() -> None:
    before = copy.deepcopy(ROWS)
    raw = raw_rows(ROWS, "raw:")
    assert before == ROWS  # ingest's rows are not touched
    assert [r["id"] for r in raw] == ["raw:rec_1", "raw:rec_2"]
    assert [r["patient"] for r in raw] == ["raw:ps_1", None]
    assert [f["id"] for f in raw[0]["fields"]] == ["raw:fld_1", "raw:fld_2"]
    # Everything else is ingest's value: same properties, same sizes.
    for original, copied in zip(ROWS, raw, strict=True):
        assert {k: v for k, v in copied.items() if k not in ("id", "patient", "fields")} == {
            k: v for k, v in original.items() if k not in ("id", "patient", "fields")
        }
        for f, g in zip(original["fields"], copied["fields"], strict=True):
            assert {k: v for k, v in g.items() if k != "id"} == {
                k: v for k, v in f.items() if k != "id"
            }
    # A field's own pseudonym (an identifier's) is a value, not a key: kept.
    assert raw[0]["fields"][1]["pseudonym"] == "ps_9"


def test_the_reference_line_gives_the_raw_rate_and_ingests_share_of_it() -> None:
    line = reference("fhir", "8 batches of 1000", 1200.0, 4000.0)
    assert line == (
        "fhir 8 batches of 1000, raw UNWIND write of the same rows:    4000 records/s "
        "(ingest/raw 0.30)"
    )


def test_read_all_asks_for_every_batch_as_the_verifier_does_until_one_is_empty() -> None:
    size = 2 * BATCH + 7
    asked: list[tuple[int, int]] = []

    def fetch(start: int, limit: int) -> list[dict[str, Any]]:
        asked.append((start, limit))
        return [{"seq": s} for s in range(start, min(start + limit, size))]

    assert read_all(fetch) == size
    assert asked == [(0, BATCH), (BATCH, BATCH), (2 * BATCH, BATCH), (size, BATCH)]


def test_read_all_of_an_empty_ledger_is_one_empty_batch() -> None:
    asked: list[int] = []

    def fetch(start: int, limit: int) -> list[dict[str, Any]]:
        asked.append(start)
        return []

    assert read_all(fetch) == 0
    assert asked == [0]
