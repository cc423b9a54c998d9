"""Feature rows and labels for the training tasks (pure: rows as the graph query returns them)."""

from __future__ import annotations

from typing import Any

from kgservice.training.features import rows_to_dataset, split


def row(
    record: str,
    kind: str,
    value: str | None = None,
    code: str | None = None,
    time: str = "2026-11-01",
) -> dict[str, Any]:
    return {"record": record, "kind": kind, "value": value, "code": code, "time": time}


ROWS = [
    row("r1", "HbA1c", "9.5"),
    row("r1", "FastingGlucose", "11.0"),
    row("r1", "Condition", "糖尿病肾病", "E11.2"),
    row("r2", "HbA1c", "6.1"),
    row("r2", "FastingGlucose", "5.9"),
    row("r2", "Condition", "2型糖尿病", "E11.9"),
    row("r3", "HbA1c", "8.0"),
    row("r3", "Condition", "糖尿病性大疱病", "L13.8"),
    row("r4", "FastingGlucose", "7.0"),  # no HbA1c: no label for glycaemic control
]


def test_glycaemic_control_labels_by_hba1c_and_never_uses_it_as_input() -> None:
    data = rows_to_dataset(ROWS, task="poor_glycaemic_control")
    # r3 has only its label (no input), r4 no label: neither is used.
    assert data.y.tolist() == [1.0, 0.0]
    assert data.x.shape == (2, 4)
    # Standardised with fixed constants: (11.0 - 7.0) / 2.0 for r1's fasting glucose.
    assert data.x[0][0] == 2.0


def test_complication_risk_labels_by_icd10_including_the_rare_one() -> None:
    data = rows_to_dataset(ROWS, task="complication_risk")
    assert data.y.tolist() == [1.0, 0.0, 1.0, 0.0]  # E11.2 and L13.8 yes; E11.9 no
    assert data.x.shape == (4, 5)  # HbA1c is an input here


def test_later_readings_win_and_the_split_is_deterministic() -> None:
    rows = [
        row("r1", "HbA1c", "6.0", time="2026-01-01"),
        row("r1", "HbA1c", "9.0", time="2026-06-01"),
        row("r1", "BodyWeight", "70"),
    ]
    assert rows_to_dataset(rows).y.tolist() == [1.0]
    data = rows_to_dataset(ROWS, task="complication_risk")
    assert split(data, 0.5, "job_x")[1].y.tolist() == split(data, 0.5, "job_x")[1].y.tolist()
