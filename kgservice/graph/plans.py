"""Statements that keep their first plan: the decision path's.

Neo4j plans a statement once and caches the plan, but discards it when the statistics it was
planned on have moved far enough (debug.log: "Discarded stale query from the query cache ...
NodesAllCardinality changed"), and the threshold falls with the plan's age, so a growing graph
crosses it again and again. Every decision waits behind the append in flight, and when three
decision statements were planned again 300 s into a run at 200/s (bench/decisions.py), that 20 s
had a p99 of 768-822 ms and 137-166 requests refused with 503, past the 64 in flight a process
takes (two runs). ``fixed`` keeps the cached plan instead (``replan=skip``).

That is only safe for a statement whose plan cannot depend on statistics: every node it
matches is pinned to an index with a hint (``USING INDEX``), so the plan made on an empty graph
at start-up is the plan for any graph. tests/integration/test_plans.py reads the plans and
fails on any node found some other way. The indexes must be online before the first plan is made
(``await_indexes``, kgservice/graph/schema.py).
"""

from __future__ import annotations

FIXED = "CYPHER replan=skip\n"


def fixed(statement: str) -> str:
    """``statement`` keeping its cached plan whatever the statistics do."""
    return FIXED + statement
