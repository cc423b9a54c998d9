"""The fast path gives pySHACL's verdicts on the regression corpus of 250 generated requests."""

from __future__ import annotations

from typing import Any

import pytest

from ingest.grading import Engine
from kgservice.decisions.corpus import generate, judge, load
from kgservice.decisions.rules import RedLines

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
