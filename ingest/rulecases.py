"""The rule-case manifest (``shapes/cases.toml``): each case and whether its rule fires.

Shared by the tests and `shield rules test`, so stewards and CI run the same thing.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from importlib.resources.abc import Traversable
from typing import Any

from rdflib import Graph

from ingest.fastshacl.terms import Data
from ingest.grading import SHAPES_DIR, Grader
from ingest.model import Datum, Extracted, Subject, SubjectKind
from ingest.rdf import build

CASES_FILE = SHAPES_DIR / "cases.toml"
DIGEST = "0" * 64


@dataclass(frozen=True, slots=True)
class Case:
    rule: str
    fires: bool
    record: str
    field: dict[str, Any] | None
    turtle: str | None
    grade: tuple[str, int, str] | None

    @property
    def name(self) -> str:
        return f"{self.rule}-{'fires' if self.fires else 'quiet'}"


@dataclass(frozen=True, slots=True)
class Outcome:
    fired: bool
    grade: tuple[str, int, str] | None
    findings: frozenset[tuple[str, str, str]]  # (focus, rule id, value), for comparing engines


def load_cases(path: Traversable = CASES_FILE) -> list[Case]:
    data = tomllib.loads(path.read_text("utf-8"))
    cases = []
    for c in data["case"]:
        grade = (
            (str(c["grade"][0]), int(c["grade"][1]), str(c["grade"][2])) if "grade" in c else None
        )
        cases.append(
            Case(
                c["rule"],
                bool(c["fires"]),
                c.get("record", "PatientRecord"),
                c.get("field"),
                c.get("turtle"),
                grade,
            )
        )
    return cases


def _data(case: Case) -> tuple[str | Data, str | None]:
    """The case's data (N-Triples, or the graph ``build`` makes), and the IRI of its field (None
    for whole-graph cases)."""
    if case.turtle is not None:
        nt = Graph().parse(data=case.turtle, format="turtle").serialize(format="nt")
        return nt, None
    if case.field is None:
        raise ValueError(f"{case.name}: needs `field` or `turtle`")
    f = case.field
    value = Decimal(f["value"]) if "unit" in f else f["value"]
    time = datetime.fromisoformat(f["time"]) if "time" in f else None
    datum = Datum(
        f["kind"],
        value,
        "case",
        f.get("unit"),
        time,
        f.get("code"),
        float(f.get("confidence", 1.0)),
    )
    subject = Subject(SubjectKind(case.record), "case", [datum])
    graph, refs, _ = build(Extracted("case", "case", [subject]), "case", DIGEST)
    return graph, refs[0].iri


def run_case(case: Case, grader: Grader) -> Outcome:
    nt, field = _data(case)
    graded = grader.grade(nt)
    found = frozenset((x.focus, x.rule.id, x.value or "") for x in graded.findings)
    if case.rule.startswith("G-"):
        grade = graded.grades.get(field) if field else None
        fired = grade is not None and grade.rule == case.rule
        return Outcome(fired, (grade.category, grade.level, grade.tier) if grade else None, found)
    return Outcome(any(rule == case.rule for _, rule, _ in found), None, found)
