"""What is remembered per decision request, and for how long."""

from __future__ import annotations

from typing import Any

from kgservice.decisions.remembered import RememberedFacts, key
from kgservice.settings import DecisionEngineSettings

LIMIT = DecisionEngineSettings().remembered_facts


def ask(principal: str = "p1", **change: Any) -> dict[str, Any]:
    return {
        "principal": principal,
        "holder": "clinic-b",
        "patients": ["pt-2", "pt-1"],
        "purpose": "treatment",
        "categories": ["health_status"],
        "level": 3,
        "grantee": "hosp-a",
        "product": None,
        **change,
    }


def row(**change: Any) -> dict[str, Any]:
    return {
        "principal_active": True,
        "known": True,
        "coverage": [],
        "use": True,
        "operation": False,
        **change,
    }


def test_every_parameter_is_part_of_the_key() -> None:
    base = key(ask())
    assert key(ask()) == base
    hash(base)  # usable as a dictionary key though the parameters hold lists
    for name, other in [
        ("principal", "p2"),
        ("holder", "hosp-a"),
        ("patients", ["pt-1"]),
        ("purpose", "research"),
        ("categories", ["identity"]),
        ("level", 4),
        ("grantee", "uni-lab"),
        ("product", "model"),
    ]:
        assert key({**ask(), name: other}) != base, name


def test_a_batch_is_remembered_only_if_every_request_is_under_one_rule_set() -> None:
    facts = RememberedFacts(LIMIT)
    assert facts.get([ask()]) is None
    facts.put([ask("p1"), ask("p2")], "sha256:a", [row(), row(use=False)])
    assert facts.get([ask("p2"), ask("p1")]) == ("sha256:a", [row(use=False), row()])
    assert facts.get([ask("p1"), ask("p3")]) is None
    facts.put([ask("p3")], "sha256:b", [row()])
    assert facts.get([ask("p1"), ask("p3")]) is None  # two rule sets: look them up
    assert facts.get([]) is None


def test_a_refused_request_is_not_remembered_and_forgets_what_was() -> None:
    facts = RememberedFacts(LIMIT)
    facts.put([ask()], None, [row()])
    assert facts.get([ask()]) == (None, [row()])
    facts.put([ask()], None, [row(principal_active=False)])
    assert facts.get([ask()]) is None
    facts.put([ask()], None, [row(known=False)])
    assert len(facts) == 0


def test_the_oldest_are_dropped_first_and_a_refresh_counts_as_new() -> None:
    facts = RememberedFacts(limit=9)  # a request naming two patients weighs 3
    for n in range(3):
        facts.put([ask(f"p{n}")], None, [row()])
    facts.put([ask("p0")], None, [row()])  # refreshed: now the newest
    facts.put([ask("p3")], None, [row()])
    assert (len(facts), facts.weight) == (3, 9)
    assert facts.get([ask("p1")]) is None
    assert all(facts.get([ask(p)]) is not None for p in ("p0", "p2", "p3"))


def test_a_cohort_weighs_its_patients() -> None:
    facts = RememberedFacts(limit=10)
    facts.put([ask("p0"), ask("p1")], None, [row(), row()])
    cohort = ask("p2", patients=[f"pt-{n}" for n in range(6)])
    facts.put([cohort], None, [row()])
    assert facts.get([ask("p0")]) is None  # dropped to make room for the cohort's 7
    assert facts.get([ask("p1")]) is not None
    assert facts.get([cohort]) is not None
    assert facts.weight == 10
    heavier = ask("p3", patients=[f"pt-{n}" for n in range(10)])
    facts.put([heavier], None, [row()])
    assert facts.get([heavier]) is None  # heavier than the whole limit: not kept
    assert facts.weight == 10
    facts.forget([cohort, ask("p1")])
    assert (len(facts), facts.weight) == (0, 0)


def test_forget() -> None:
    facts = RememberedFacts(LIMIT)
    facts.put([ask("p1"), ask("p2")], None, [row(), row()])
    facts.forget([ask("p1"), ask("p9")])
    assert facts.get([ask("p1")]) is None
    assert facts.get([ask("p2")]) is not None
