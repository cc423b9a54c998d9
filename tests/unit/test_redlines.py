"""Every red line fires when it should and stays quiet otherwise, on both SHACL engines."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from ingest.grading import Engine
from kgservice.decisions.rules import Facts, RedLines, is_egress, is_third_party, verdict
from kgservice.decisions.schemas import DecisionIn, Verdict

IRI = "https://w3id.org/health-shield/id/decision/test"
BASE: dict[str, Any] = {
    "kind": "access", "purpose": "treatment", "legal_basis": "contract", "holder": "hosp-a",
    "categories": ["health_status"], "max_level": 3,
}  # fmt: skip
HOME = Facts("hosp-a", "NoPatients", "NoPatients", [], [])
CONSENTED = Facts("hosp-a", "AllPatients", "AllPatients", [], [])
PARTLY = Facts("hosp-a", "SomePatients", "SomePatients", ["ps_1"], ["ps_1"])
NOT_SEPARATE = Facts("hosp-a", "AllPatients", "NoPatients", [], ["ps_1", "ps_2"])
USE_GRANTED = replace(HOME, use_granted=True)
OPERATION_GRANTED = replace(HOME, operation_granted=True)
SHARE = {"kind": "share", "recipient": "uni-lab"}
SELL = {"purpose": "commercialisation", "product": "model-7"}


def rx(**change: Any) -> dict[str, Any]:
    """A prescription check: metformin 1,000 mg/day for type 2 diabetes, eGFR 60, changed."""
    p = {"drug": "metformin", "daily_dose_mg": 1000, "diagnosis": "E11.9", "egfr": 60, **change}
    return {"kind": "prescription", "prescription": p}


# (rule, fires, request changes, facts)
CASES: list[tuple[str, bool, dict[str, Any], Facts]] = [
    ("RL-PURPOSE", True, {"purpose": None}, HOME),
    ("RL-PURPOSE", False, {}, HOME),
    ("RL-LEGAL-BASIS", True, {"legal_basis": None}, HOME),
    ("RL-LEGAL-BASIS", False, {}, HOME),
    ("RL-NECESSITY", True, {"purpose": "research", "categories": ["personal_attributes"]}, HOME),
    ("RL-NECESSITY", False, {"purpose": "research", "categories": ["health_status",
                                                                   "public_health"]}, HOME),
    ("RL-CORE-EGRESS", True, {"kind": "training", "purpose": "model_training", "max_level": 4},
     HOME),
    ("RL-CORE-EGRESS", True, {"kind": "export", "recipient": "hosp-a", "max_level": 5,
                              "deidentified": True}, HOME),
    ("RL-CORE-EGRESS", False, {"kind": "training", "purpose": "model_training"}, HOME),
    ("RL-CORE-EGRESS", False, {"max_level": 5}, HOME),  # reading at home is not egress
    ("RL-THIRD-PARTY-CONSENT", True, {**SHARE, "legal_basis": "consent"}, NOT_SEPARATE),
    ("RL-THIRD-PARTY-CONSENT", False, {**SHARE, "legal_basis": "consent"}, CONSENTED),
    ("RL-THIRD-PARTY-CONSENT", False, {**SHARE, "legal_basis": "consent", "deidentified": True},
     NOT_SEPARATE),
    ("RL-THIRD-PARTY-CONSENT", False, {**SHARE, "legal_basis": "statutory_duty"}, NOT_SEPARATE),
    ("RL-CONSENT-VALID", True, {"legal_basis": "consent"}, PARTLY),
    ("RL-CONSENT-VALID", False, {"legal_basis": "consent"}, CONSENTED),
    ("RL-CONSENT-VALID", False, {"legal_basis": "contract"}, PARTLY),
    ("RL-USE-GRANT", True, SHARE, HOME),
    ("RL-USE-GRANT", True, {}, replace(HOME, requester_institution="clinic-b")),
    ("RL-USE-GRANT", False, SHARE, USE_GRANTED),
    ("RL-USE-GRANT", False, {}, HOME),  # the holder uses its own data
    ("RL-OPERATION-GRANT", True, SELL, HOME),
    ("RL-OPERATION-GRANT", False, SELL, OPERATION_GRANTED),
    ("RL-OPERATION-GRANT", False, {}, HOME),
    ("RX-KNOWN-DRUG", True, rx(drug="aspirin", daily_dose_mg=100), HOME),
    ("RX-KNOWN-DRUG", False, rx(drug="二甲双胍"), HOME),
    ("RX-OFF-LABEL", True, rx(drug="glimepiride", daily_dose_mg=2, diagnosis="E10.9"), HOME),
    ("RX-OFF-LABEL", False, rx(drug="dapagliflozin", daily_dose_mg=10, diagnosis="N18.3"), HOME),
    ("RX-MAX-DOSE", True, rx(daily_dose_mg=3000), HOME),
    ("RX-MAX-DOSE", False, rx(daily_dose_mg=2550), HOME),
    ("RX-CONTRAINDICATION-EGFR", True, rx(egfr=29), HOME),
    ("RX-CONTRAINDICATION-EGFR", False, rx(egfr=30), HOME),
    ("RX-CONTRAINDICATION-EGFR", False, rx(drug="sitagliptin", daily_dose_mg=50, egfr=20), HOME),
    ("RL-EMERGENCY-REVIEW", True, {"legal_basis": "emergency"}, HOME),
    ("RL-EMERGENCY-REVIEW", False, {}, HOME),
]  # fmt: skip


@pytest.fixture(scope="module")
def engines() -> dict[Engine, RedLines]:
    return {engine: RedLines(engine=engine) for engine in Engine}


@pytest.mark.parametrize(
    ("rule", "fires", "change", "facts"), CASES,
    ids=[f"{r}-{'fires' if f else 'quiet'}-{i}" for i, (r, f, _, _) in enumerate(CASES)],
)  # fmt: skip
def test_red_line(
    engines: dict[Engine, RedLines], rule: str, fires: bool, change: dict[str, Any], facts: Facts
) -> None:
    request = DecisionIn.model_validate({**BASE, **change})
    results = {e: sorted((f.rule.id, f.value or "") for f in rl.check(request, facts, IRI))
               for e, rl in engines.items()}  # fmt: skip
    assert results[Engine.pyshacl] == results[Engine.shifty]
    assert any(r == rule for r, _ in results[Engine.shifty]) == fires, results


def test_every_red_line_has_both_cases(engines: dict[Engine, RedLines]) -> None:
    rules = {r.id for r in engines[Engine.shifty].engine.rules.values()}
    for rule in rules:
        assert {f for r, f, _, _ in CASES if r == rule} == {True, False}, rule


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
    request = DecisionIn.model_validate({"kind": "prescription", "holder": "clinic-b",
                                         "prescription": rx()["prescription"]})  # fmt: skip
    assert rl.check(request, HOME, IRI) == []
    with pytest.raises(ValueError, match="carries `prescription`"):
        DecisionIn.model_validate({**BASE, "kind": "prescription"})
