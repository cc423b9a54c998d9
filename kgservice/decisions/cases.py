"""The red-line case manifest (``shapes/decision_cases.toml``), shared by the tests and
`shield rules test`."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from typing import Any

from ingest.grading import SHAPES_DIR
from kgservice.decisions.rules import Facts, RedLines
from kgservice.decisions.schemas import DecisionIn

CASES_FILE = SHAPES_DIR / "decision_cases.toml"
IRI = "https://w3id.org/health-shield/id/decision/case"
BASE: dict[str, Any] = {
    "kind": "access",
    "purpose": "treatment",
    "legal_basis": "contract",
    "holder": "hosp-a",
    "categories": ["health_status"],
    "max_level": 3,
}
FACTS: dict[str, Any] = {
    "requester": "hosp-a",
    "consent": "NoPatients",
    "separate_consent": "NoPatients",
    "use_granted": False,
    "operation_granted": False,
}


@dataclass(frozen=True, slots=True)
class DecisionCase:
    rule: str
    fires: bool
    request: DecisionIn
    facts: Facts

    @property
    def name(self) -> str:
        return f"{self.rule}-{'fires' if self.fires else 'quiet'}"


def load_decision_cases(path: Traversable = CASES_FILE) -> list[DecisionCase]:
    cases = []
    for c in tomllib.loads(path.read_text("utf-8"))["case"]:
        body = {**BASE, **c.get("request", {})}
        for key in c.get("unset", []):
            body.pop(key, None)
        f = {**FACTS, **c.get("facts", {})}
        facts = Facts(
            f["requester"],
            f["consent"],
            f["separate_consent"],
            [],
            [],
            f["use_granted"],
            f["operation_granted"],
        )
        cases.append(
            DecisionCase(c["rule"], bool(c["fires"]), DecisionIn.model_validate(body), facts)
        )
    return cases


def fired(case: DecisionCase, redlines: RedLines) -> list[tuple[str, str]]:
    """(rule id, offending value) of every finding for the case."""
    return sorted((f.rule.id, f.value or "") for f in redlines.check(case.request, case.facts, IRI))
