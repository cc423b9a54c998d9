"""Every rule in shapes/ behaves as its cases say, on every SHACL engine, with the same results."""

from __future__ import annotations

import pytest
from rdflib import Graph
from rdflib.namespace import SH

from ingest.grading import RULE_FILES, SHAPES_DIR, Engine, Grader
from ingest.rdf import HS
from ingest.rulecases import Case, load_cases, run_case

CASES = load_cases()


@pytest.fixture(scope="module")
def graders() -> dict[Engine, Grader]:
    return {engine: Grader.from_directory(engine=engine) for engine in Engine}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(case: Case, graders: dict[Engine, Grader]) -> None:
    outcomes = {engine: run_case(case, g) for engine, g in graders.items()}
    for engine, outcome in outcomes.items():
        assert outcome.fired == case.fires, f"{engine}: {outcome}"
        if case.grade is not None:
            assert outcome.grade == case.grade, engine
    for engine in (Engine.shifty, Engine.compiled):
        assert outcomes[engine].findings == outcomes[Engine.pyshacl].findings, engine


def _rules() -> dict[str, Graph]:
    out = {}
    for name in RULE_FILES:
        g = Graph().parse(data=(SHAPES_DIR / name).read_text("utf-8"), format="turtle")
        for shape, rule_id in g.subject_objects(HS.ruleId):
            out[str(rule_id)] = g
            langs = {m.language for m in g.objects(shape, SH.message)}  # type: ignore[attr-defined]
            assert {"zh", "en"} <= langs, f"{rule_id} needs sh:message in zh and en"
            assert g.value(shape, SH.severity) is not None, f"{rule_id} needs sh:severity"
            assert g.value(shape, HS.article) is not None, f"{rule_id} needs hs:article"
    return out


def test_every_rule_has_metadata_and_a_case_that_fires_and_one_that_does_not() -> None:
    rules = _rules()
    assert len(rules) >= 20
    for rule in rules:
        kinds = {c.fires for c in CASES if c.rule == rule}
        assert kinds == {True, False}, f"{rule} needs a firing and a quiet case (has {kinds})"
    unknown = {c.rule for c in CASES} - set(rules)
    assert not unknown, f"cases for rules that do not exist: {unknown}"
