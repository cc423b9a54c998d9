"""The fast path gives pySHACL's verdicts on the regression corpus of 250 generated requests,
alone, judged together and remembered."""

from __future__ import annotations

from typing import Any

import pytest

from ingest.grading import Engine, Finding
from kgservice.decisions import corpus
from kgservice.decisions.rulecache import RuleSetCache
from kgservice.decisions.rules import Case, RedLines
from kgservice.decisions.schemas import DecisionIn
from kgservice.settings import DecisionEngineSettings

CORPUS = corpus.load()
SETTINGS = DecisionEngineSettings()


def test_corpus_is_large_varied_and_current() -> None:
    assert len(CORPUS) >= 200
    verdicts = {item["expected"]["verdict"] for item in CORPUS}
    assert verdicts == {"permit", "deny", "review"}
    broken = {r for item in CORPUS for r in item["expected"]["rules"]}
    assert len(broken) == len({r.id for r in RedLines().engine.rules.values()})
    # The stored requests are the generator's: regenerate the file when the generator changes.
    stored = [{k: v for k, v in item.items() if k != "expected"} for item in CORPUS]
    assert stored == corpus.generate(len(CORPUS))


@pytest.mark.parametrize("engine", list(Engine))
def test_every_engine_agrees_with_the_recorded_verdicts(engine: Engine) -> None:
    redlines = RedLines(engine=engine)
    wrong: list[tuple[int, dict[str, Any], dict[str, Any]]] = []
    for i, item in enumerate(CORPUS):
        got = corpus.judge(redlines, item)
        if got != item["expected"]:
            wrong.append((i, item["expected"], got))
    assert wrong == []


def _cases() -> list[Case]:
    return [
        (
            DecisionIn.model_validate(item["request"]),
            corpus.facts_of(item["facts"]),
            f"{corpus.IRI}/{i}",
        )
        for i, item in enumerate(CORPUS)
    ]


def _keys(findings: list[Finding]) -> list[tuple[str, str, str]]:
    return sorted((f.rule.id, f.focus, f.value or "") for f in findings)


def test_requests_judged_together_get_what_they_get_alone() -> None:
    redlines = RedLines()
    assert corpus.batches_like_singles(redlines)
    redlines.batchable = True
    asks = _cases()
    for size in (2, 7, 32):
        together = [
            found
            for start in range(0, len(asks), size)
            for found in redlines.check_many(asks[start : start + size])
        ]
        assert [_keys(f) for f in together] == [_keys(redlines.check(*a)) for a in asks]


# A rule that looks across requests: "at most one request per purpose". Alone, every request
# passes; together, requests sharing a purpose would fail — so they must not be batched.
CROSS_REQUEST = """
@prefix hs: <https://w3id.org/health-shield/ns#> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
hs:RL-ONE-PER-PURPOSE a sh:NodeShape ;
    hs:ruleId "RL-ONE-PER-PURPOSE" ;
    sh:targetClass hs:Purpose ;
    sh:severity sh:Violation ;
    sh:message "每个目的仅限一个请求"@zh , "One request per purpose"@en ;
    sh:property [ sh:path [ sh:inversePath hs:purpose ] ; sh:maxCount 1 ] .
"""


def test_rules_that_look_across_requests_are_not_batched() -> None:
    redlines = RedLines(rules=CROSS_REQUEST)
    assert not corpus.batches_like_singles(redlines)
    asks = _cases()[:20]
    assert not redlines.batchable  # until vetted, every request is judged alone
    assert [_keys(f) for f in redlines.check_many(asks)] == [
        _keys(redlines.check(*a)) for a in asks
    ]
    assert all(not redlines.check(*a) for a in asks)


def test_a_rule_set_the_batching_check_fails_on_is_judged_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    redlines = RedLines()

    def broken(ntriples: str) -> list[Finding]:
        raise RuntimeError("engine failure")

    # A fault injected into the engine: loading the rule set must not fail because of it.
    monkeypatch.setattr(redlines.engine, "check", broken)
    vetted = RuleSetCache(redlines, SETTINGS).default
    assert not vetted.batchable
    assert not vetted.repeatable


def _again(asks: list[Case]) -> list[Case]:
    """The same requests under new IRIs, as later decisions on them would be."""
    return [(request, facts, f"{iri}/again") for request, facts, iri in asks]


@pytest.mark.parametrize("batchable", [False, True])
def test_remembered_findings_are_the_engines_under_each_requests_own_iri(
    batchable: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    redlines = RuleSetCache(RedLines(), SETTINGS).default  # vetted as the service loads it
    assert corpus.findings_repeat(redlines)
    assert redlines.repeatable
    redlines.batchable = batchable
    asks = _cases()
    # Some requests twice in one call, under other IRIs: judged once, answered under each IRI.
    first = asks + _again(asks[:20])
    assert [_keys(f) for f in redlines.check_many(first)] == [
        _keys(redlines.alone(*a)) for a in first
    ]
    assert redlines.remembered == len(asks)
    later = [(request, facts, f"{iri}/later") for request, facts, iri in asks]
    expected = [_keys(redlines.alone(*a)) for a in later]
    runs: list[str] = []
    engine = redlines.engine.check

    def counted(ntriples: str) -> list[Finding]:
        runs.append(ntriples)
        return engine(ntriples)

    monkeypatch.setattr(redlines.engine, "check", counted)
    assert [_keys(redlines.check(*a)) for a in later] == expected
    assert runs == []  # all remembered


@pytest.mark.parametrize("batch", [4, 8], ids=["smaller-than-the-memo", "larger"])
def test_a_full_memo_starts_over_without_changing_findings(batch: int) -> None:
    redlines = RedLines()
    redlines.repeatable = True
    redlines.memo_size = 5
    asks = _cases()[:60]
    for start in range(0, len(asks), batch):
        part = asks[start : start + batch]
        assert [_keys(f) for f in redlines.check_many(part)] == [
            _keys(redlines.alone(*a)) for a in part
        ]
        assert redlines.remembered <= 5


NOW_RULE = """
@prefix hs: <https://w3id.org/health-shield/ns#> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
hs:RL-OFFICE-HOURS a sh:NodeShape ;
    hs:ruleId "RL-OFFICE-HOURS" ;
    sh:targetClass hs:DecisionRequest ;
    sh:severity sh:Warning ;
    sh:message "非工作时间的请求"@zh , "Request outside office hours"@en ;
    sh:sparql [ sh:select "SELECT $this WHERE { FILTER(HOURS(NOW()) < 8) }" ] .
"""
# Reads the request's IRI: two IRIs of the same request graph get different findings.
IRI_RULE = """
@prefix hs: <https://w3id.org/health-shield/ns#> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
hs:RL-IRI a sh:NodeShape ;
    hs:ruleId "RL-IRI" ;
    sh:targetClass hs:DecisionRequest ;
    sh:severity sh:Violation ;
    sh:message "按标识判断"@zh , "Judged by its IRI"@en ;
    sh:sparql [ sh:select "SELECT $this WHERE { FILTER(CONTAINS(STR($this), '/first/')) }" ] .
"""


@pytest.mark.parametrize("text", [NOW_RULE, IRI_RULE], ids=["clock", "iri"])
def test_rules_that_read_a_clock_or_the_iri_are_not_remembered(text: str) -> None:
    redlines = RedLines(rules=text)
    assert not corpus.findings_repeat(redlines)
    assert not RuleSetCache(redlines, SETTINGS).default.repeatable


@pytest.mark.parametrize("size", [0, 7])
def test_the_engine_s_settings_bound_the_memo(size: int) -> None:
    settings = DecisionEngineSettings(remembered_findings=size)
    redlines = RuleSetCache(RedLines(), settings).default
    assert redlines.repeatable
    for ask in _cases()[:40]:
        assert _keys(redlines.check(*ask)) == _keys(redlines.alone(*ask))
        assert redlines.remembered <= size
    assert (redlines.remembered > 0) == (size > 0)
