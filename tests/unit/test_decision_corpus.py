"""The fast path gives pySHACL's verdicts on the regression corpus of 250 generated requests,
alone and judged together."""

from __future__ import annotations

from typing import Any

import pytest

from ingest.grading import Engine, Finding
from kgservice.decisions.corpus import IRI, batches_like_singles, facts_of, generate, judge, load
from kgservice.decisions.rules import Case, RedLines
from kgservice.decisions.schemas import DecisionIn
from kgservice.rulesets.service import RuleSetCache

CORPUS = load()


def test_corpus_is_large_varied_and_current() -> None:
    assert len(CORPUS) >= 200
    verdicts = {item["expected"]["verdict"] for item in CORPUS}
    assert verdicts == {"permit", "deny", "review"}
    rules = {r for item in CORPUS for r in item["expected"]["rules"]}
    assert len(rules) == len({r.id for r in RedLines().engine.rules.values()})
    # The stored requests are the generator's: regenerate the file when the generator changes.
    assert [{k: v for k, v in item.items() if k != "expected"} for item in CORPUS] == generate(
        len(CORPUS)
    )


@pytest.mark.parametrize("engine", list(Engine))
def test_every_engine_agrees_with_the_recorded_verdicts(engine: Engine) -> None:
    redlines = RedLines(engine=engine)
    wrong: list[tuple[int, dict[str, Any], dict[str, Any]]] = []
    for i, item in enumerate(CORPUS):
        got = judge(redlines, item)
        if got != item["expected"]:
            wrong.append((i, item["expected"], got))
    assert wrong == []


def _cases() -> list[Case]:
    return [(DecisionIn.model_validate(item["request"]), facts_of(item["facts"]), f"{IRI}/{i}")
            for i, item in enumerate(CORPUS)]  # fmt: skip


def _keys(findings: list[Finding]) -> list[tuple[str, str, str]]:
    return sorted((f.rule.id, f.focus, f.value or "") for f in findings)


def test_requests_judged_together_get_what_they_get_alone() -> None:
    redlines = RedLines()
    assert batches_like_singles(redlines)
    redlines.batchable = True
    asks = _cases()
    for size in (2, 7, 32):
        together = [found for start in range(0, len(asks), size)
                    for found in redlines.check_many(asks[start : start + size])]  # fmt: skip
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
    assert not batches_like_singles(redlines)
    asks = _cases()[:20]
    assert not redlines.batchable  # until vetted, every request is judged alone
    assert [_keys(f) for f in redlines.check_many(asks)] == [_keys(redlines.check(*a))
                                                             for a in asks]  # fmt: skip
    assert all(not redlines.check(*a) for a in asks)


def test_a_rule_set_the_batching_check_fails_on_is_judged_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    redlines = RedLines()

    def broken(ntriples: str) -> list[Finding]:
        raise RuntimeError("engine failure")

    # A fault injected into the engine: loading the rule set must not fail because of it.
    monkeypatch.setattr(redlines.engine, "check", broken)
    assert not RuleSetCache(redlines).default.batchable
