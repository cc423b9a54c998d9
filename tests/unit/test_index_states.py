"""When the service may not start on its indexes (kgservice/graph/schema.py): the fixed plans of
the decision path need every index they name online (kgservice/graph/plans.py)."""

from __future__ import annotations

from kgservice.graph.schema import index_problem


def test_indexes_being_built_are_waited_on_until_patience_runs_out() -> None:
    building = [("grant_holder_grantee", "POPULATING"), ("ruleset_status", "POPULATING")]
    assert index_problem(building, expired=False) is None
    assert index_problem(building, expired=True) == (
        "the graph's indexes are still being built (grant_holder_grantee, ruleset_status); "
        "try again shortly"
    )


def test_a_failed_index_is_named_at_once_with_what_to_do() -> None:
    states = [("ruleset_status", "POPULATING"), ("grant_holder_grantee", "FAILED")]
    problem = index_problem(states, expired=False)
    assert problem is not None
    assert problem.startswith("index grant_holder_grantee failed to build")
    assert "drop it" in problem
    assert "ruleset_status" not in problem
