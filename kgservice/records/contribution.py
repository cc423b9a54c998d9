"""Contribution log: what each accepted submission brings (seed §4.3), the input for points.

Pure functions over the checked submission. The formula is documented so institutions can check
their own figures:
- ``records``: records accepted; ``fields``: fields stored.
- ``completeness``: mean over patient records of the share of the five diabetes-care essentials
  present (a glucose reading, HbA1c, blood pressure, body weight, a coded diagnosis), 0–1.
- ``rare_conditions``: diagnoses graded by the rare-complication rule (G-CONDITION-RARE); rare
  data are what the seed's Shapley example rewards.
- ``flagged``: fields accepted with a warning (e.g. low extraction confidence) awaiting review.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ingest.model import SubjectKind
from ingest.pipeline import Checked

ESSENTIALS = (
    frozenset({"FastingGlucose", "PostprandialGlucose", "RandomGlucose"}),
    frozenset({"HbA1c"}),
    frozenset({"SystolicPressure", "DiastolicPressure"}),
    frozenset({"BodyWeight"}),
    frozenset({"Condition"}),
)
RARE_RULE = "G-CONDITION-RARE"


@dataclass(frozen=True, slots=True)
class Contribution:
    records: int
    fields: int
    completeness: float
    rare_conditions: int
    flagged: int

    def as_json(self) -> dict[str, int | float]:
        return asdict(self)


def measure(checked: Checked) -> Contribution:
    kinds_by_record: dict[str, set[str]] = {}
    for f in checked.fields:
        kinds_by_record.setdefault(f.ref.record_id, set()).add(f.ref.datum.kind)
    patients = [
        rid
        for (rid, _), s in zip(checked.records, checked.extracted.subjects, strict=True)
        if s.kind is SubjectKind.patient
    ]
    shares = [
        sum(1 for group in ESSENTIALS if group & kinds_by_record.get(rid, set())) / len(ESSENTIALS)
        for rid in patients
    ]
    return Contribution(
        records=len(checked.records),
        fields=len(checked.fields),
        completeness=round(sum(shares) / len(shares), 4) if shares else 0.0,
        rare_conditions=sum(1 for f in checked.fields if f.grade and f.grade.rule == RARE_RULE),
        flagged=sum(
            1 for f in checked.fields if any(x.rule.severity == "Warning" for x in f.findings)
        ),
    )
