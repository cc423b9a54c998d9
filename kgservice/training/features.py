"""De-identified features and labels for the training tasks.

Per patient record: the latest value of each feature (health status, level 3, never identifiers),
standardised with fixed published-range constants so institutions scale alike without sharing
statistics. Tasks:

- ``poor_glycaemic_control``: label HbA1c ≥ 7.0 % (Chinese diabetes guideline target); records
  without an HbA1c are not used.
- ``complication_risk``: label "has a diabetic complication" (ICD-10 E10–E14 .2–.6: kidney, eye,
  nerve, circulation, other — diabetic bullosis among them — or L13.8). Rare complications are
  core-private, stored encrypted: their codes are decrypted here, inside the holding institution's
  boundary, and only the 0/1 label goes into the institution's node file.

A missing feature takes the centre value. The requester's held-out share is the validation set.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kgservice.graph.database import Runner
from kgservice.records.protection import Protector

FEATURES = (  # kind, centre, scale
    ("FastingGlucose", 7.0, 2.0),
    ("SystolicPressure", 130.0, 15.0),
    ("DiastolicPressure", 80.0, 10.0),
    ("BodyWeight", 70.0, 12.0),
    ("HbA1c", 7.5, 1.5),
)
TASK_FEATURES = {
    "poor_glycaemic_control": [
        "FastingGlucose",
        "SystolicPressure",
        "DiastolicPressure",
        "BodyWeight",
    ],
    "complication_risk": [
        "HbA1c",
        "FastingGlucose",
        "SystolicPressure",
        "DiastolicPressure",
        "BodyWeight",
    ],
}
POOR_CONTROL = 7.0
COMPLICATION = re.compile(r"^(E1[0-4]\.[2-6]|L13\.8)")
QUERY = """
MATCH (r:Record {institution: $institution, kind: 'PatientRecord'})-[:HAS_FIELD]->(f:Field)
WHERE f.kind IN $kinds
RETURN r.id AS record, f.id AS field, f.kind AS kind, f.value AS value, f.code AS code,
       f.code_enc AS code_enc, f.time AS time
ORDER BY record, coalesce(time, '')
"""


@dataclass(frozen=True, slots=True)
class Dataset:
    x: np.ndarray[Any, np.dtype[np.float64]]
    y: np.ndarray[Any, np.dtype[np.float64]]

    def save(self, path: Path) -> None:
        with path.open("wb") as f:
            np.savez(f, x=self.x, y=self.y)

    def __len__(self) -> int:
        return len(self.y)


def columns(names: list[str]) -> list[tuple[str, float, float]]:
    by_kind = {kind: (kind, centre, scale) for kind, centre, scale in FEATURES}
    return [by_kind[n] for n in names]


def _label(task: str, values: dict[str, float], complicated: bool) -> float | None:
    if task == "complication_risk":
        return 1.0 if complicated else 0.0
    hba1c = values.get("HbA1c")
    return None if hba1c is None else (1.0 if hba1c >= POOR_CONTROL else 0.0)


def rows_to_dataset(
    rows: list[dict[str, Any]], names: list[str] | None = None, task: str = "poor_glycaemic_control"
) -> Dataset:
    """``rows`` carry plaintext condition codes (``code``), already decrypted where needed."""
    chosen = columns(names) if names else columns(TASK_FEATURES[task])
    latest: dict[str, dict[str, float]] = {}
    complicated: dict[str, bool] = {}
    for row in rows:  # ordered by time: later values overwrite earlier ones
        record = row["record"]
        latest.setdefault(record, {})
        if row["kind"] == "Condition":
            code = row.get("code") or ""
            complicated[record] = complicated.get(record, False) or bool(COMPLICATION.match(code))
            continue
        try:
            latest[record][row["kind"]] = float(row["value"])
        except (TypeError, ValueError):
            continue
    xs, ys = [], []
    for record, values in latest.items():
        label = _label(task, values, complicated.get(record, False))
        if label is None or not any(kind in values for kind, _, _ in chosen):
            continue
        xs.append([(values.get(kind, centre) - centre) / scale for kind, centre, scale in chosen])
        ys.append(label)
    return Dataset(
        np.asarray(xs, dtype=np.float64).reshape(-1, len(chosen)), np.asarray(ys, dtype=np.float64)
    )


async def dataset(
    tx: Runner,
    institution: str,
    names: list[str] | None = None,
    task: str = "poor_glycaemic_control",
    protector: Protector | None = None,
) -> Dataset:
    chosen = columns(names) if names else columns(TASK_FEATURES[task])
    kinds = [k for k, _, _ in chosen] + ["HbA1c", "Condition"]
    result = await tx.run(QUERY, institution=institution, kinds=kinds)
    rows = []
    async for r in result:
        row = dict(r)
        if row["code"] is None and row["code_enc"] is not None and protector is not None:
            # A rare (core-private) diagnosis: its code is read only here, at its holder.
            row["code"] = protector.decrypt(institution, row["field"] + ":code", row["code_enc"])
        rows.append(row)
    return rows_to_dataset(rows, [k for k, _, _ in chosen], task)


def split(data: Dataset, held_out: float, salt: str) -> tuple[Dataset, Dataset]:
    """(training, validation): a deterministic share of the rows, chosen by a salted hash so
    the same job always holds out the same rows."""
    keep: list[int] = []
    hold: list[int] = []
    for i in range(len(data)):
        h = hashlib.sha256(f"{salt}:{i}".encode()).digest()[0] / 256
        (hold if h < held_out else keep).append(i)
    return (Dataset(data.x[keep], data.y[keep]), Dataset(data.x[hold], data.y[hold]))
