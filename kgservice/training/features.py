"""De-identified features for the first task: predicting poor glycaemic control.

Per patient record: the latest fasting glucose, systolic and diastolic pressure and body weight
(health status, level 3, never identifiers), standardised with fixed published-range constants so
institutions scale alike without sharing statistics; the label is HbA1c ≥ 7.0 % (poor control,
Chinese diabetes guideline target). Records without an HbA1c are not used; a missing feature takes
the centre value. The requester's held-out share is the validation set, never trained on.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kgservice.graph.database import Runner

FEATURES = (  # kind, centre, scale
    ("FastingGlucose", 7.0, 2.0),
    ("SystolicPressure", 130.0, 15.0),
    ("DiastolicPressure", 80.0, 10.0),
    ("BodyWeight", 70.0, 12.0),
)
LABEL = "HbA1c"
POOR_CONTROL = 7.0
QUERY = """
MATCH (r:Record {institution: $institution, kind: 'PatientRecord'})-[:HAS_FIELD]->(f:Field)
WHERE f.kind IN $kinds AND f.value IS NOT NULL
RETURN r.id AS record, f.kind AS kind, f.value AS value, f.time AS time
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


def rows_to_dataset(rows: list[dict[str, Any]], names: list[str] | None = None) -> Dataset:
    chosen = columns(names) if names else list(FEATURES)
    latest: dict[str, dict[str, float]] = {}
    for row in rows:  # ordered by time: later values overwrite earlier ones
        try:
            latest.setdefault(row["record"], {})[row["kind"]] = float(row["value"])
        except (TypeError, ValueError):
            continue
    xs, ys = [], []
    for values in latest.values():
        if LABEL not in values:
            continue
        xs.append([(values.get(kind, centre) - centre) / scale for kind, centre, scale in chosen])
        ys.append(1.0 if values[LABEL] >= POOR_CONTROL else 0.0)
    return Dataset(np.asarray(xs, dtype=np.float64).reshape(-1, len(chosen)),
                   np.asarray(ys, dtype=np.float64))  # fmt: skip


async def dataset(tx: Runner, institution: str, names: list[str] | None = None) -> Dataset:
    chosen = columns(names) if names else list(FEATURES)
    kinds = [k for k, _, _ in chosen] + [LABEL]
    result = await tx.run(QUERY, institution=institution, kinds=kinds)
    return rows_to_dataset([dict(r) async for r in result], [k for k, _, _ in chosen])


def split(data: Dataset, held_out: float, salt: str) -> tuple[Dataset, Dataset]:
    """(training, validation): a deterministic share of the rows, chosen by a salted hash so
    the same job always holds out the same rows."""
    keep: list[int] = []
    hold: list[int] = []
    for i in range(len(data)):
        h = hashlib.sha256(f"{salt}:{i}".encode()).digest()[0] / 256
        (hold if h < held_out else keep).append(i)
    return (Dataset(data.x[keep], data.y[keep]), Dataset(data.x[hold], data.y[hold]))
