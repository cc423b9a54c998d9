"""Every red line fires when it should and stays quiet otherwise, on both SHACL engines."""

from __future__ import annotations

import pytest

from ingest.grading import Engine
from kgservice.decisions.cases import BASE, IRI, DecisionCase, fired, load_decision_cases
from kgservice.decisions.rules import Facts, RedLines, is_egress, is_third_party, verdict
from kgservice.decisions.schemas import DecisionIn, Verdict

HOME = Facts("hosp-a", "NoPatients", "NoPatients", [], [])
CASES = load_decision_cases()


@pytest.fixture(scope="module")
def engines() -> dict[Engine, RedLines]:
    return {engine: RedLines(engine=engine) for engine in Engine}


@pytest.mark.parametrize("case", CASES, ids=[f"{c.name}-{i}" for i, c in enumerate(CASES)])
def test_red_line(engines: dict[Engine, RedLines], case: DecisionCase) -> None:
    results = {e: fired(case, rl) for e, rl in engines.items()}
    assert results[Engine.pyshacl] == results[Engine.shifty]
    assert any(r == case.rule for r, _ in results[Engine.shifty]) == case.fires, results


def test_every_red_line_has_both_cases(engines: dict[Engine, RedLines]) -> None:
    rules = {r.id for r in engines[Engine.shifty].engine.rules.values()}
    for rule in rules:
        assert {c.fires for c in CASES if c.rule == rule} == {True, False}, rule


def test_verdicts_and_the_emergency_review() -> None:
    rl = RedLines()
    ok = DecisionIn.model_validate(BASE)
    assert verdict(rl.check(ok, HOME, IRI)) is Verdict.permit
    emergency = DecisionIn.model_validate({**BASE, "legal_basis": "emergency"})
    assert verdict(rl.check(emergency, HOME, IRI)) is Verdict.review
    none = DecisionIn.model_validate({**BASE, "purpose": None})
    assert verdict(rl.check(none, HOME, IRI)) is Verdict.deny


def test_who_is_a_third_party() -> None:
    share = DecisionIn.model_validate({**BASE, "kind": "share", "recipient": "uni"})
    assert is_third_party(share, "hosp-a")
    assert is_egress(share, "hosp-a")
    visiting = DecisionIn.model_validate(BASE)
    assert is_third_party(visiting, "clinic-b")
    assert is_egress(visiting, "clinic-b")
    assert not is_third_party(visiting, "hosp-a")
    assert not is_egress(visiting, "hosp-a")
    training = DecisionIn.model_validate({**BASE, "kind": "training"})
    assert is_egress(training, "hosp-a")
    assert not is_third_party(training, "hosp-a")


def test_prescriptions_are_not_judged_by_the_data_red_lines() -> None:
    rl = RedLines()
    rx = {"drug": "metformin", "daily_dose_mg": 1000, "diagnosis": "E11.9", "egfr": 60}
    request = DecisionIn.model_validate(
        {"kind": "prescription", "holder": "clinic-b", "prescription": rx}
    )
    assert rl.check(request, HOME, IRI) == []
    with pytest.raises(ValueError, match="carries `prescription`"):
        DecisionIn.model_validate({**BASE, "kind": "prescription"})
