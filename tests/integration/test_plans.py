"""The statements that keep their first plan (kgservice/graph/plans.py) find every node through
an index, so that plan, made on whatever graph the service started with, is the plan for any
graph. Their plans are read from the real Neo4j's EXPLAIN, and their text for the hints: on the
tests' empty graph the planner seeks with or without a hint, so only the text shows one missing."""

from __future__ import annotations

import re
from typing import Any

import pytest

from kgservice.decisions import repository as decisions
from kgservice.graph.database import Graph
from kgservice.graph.plans import FIXED
from kgservice.ledger import repository as ledger
from kgservice.ledger.repository import Write
from kgservice.reviews.service import opening

pytestmark = pytest.mark.anyio

# Operators that find nodes without an index seek: what a frozen plan must not hold, since it
# would read every node of a label (or of the graph) once the graph has grown.
SCANS = (
    "AllNodesScan",
    "NodeByLabelScan",
    "UnionNodeByLabelsScan",
    "IntersectionNodeByLabelsScan",
    "NodeIndexScan",
    "NodeIndexContainsScan",
    "NodeIndexEndsWithScan",
    "DirectedRelationshipTypeScan",
    "UndirectedRelationshipTypeScan",
)

DECISION_WRITES: list[Write] = [(decisions.CREATE_MANY, {"rows": []}), opening([])]
GUARD = decisions.unchanged([], None, [], "2026-01-01T00:00:00Z")


async def operators(graph: Graph, statement: str) -> list[tuple[str, str]]:
    """(operator, details) of every step of ``statement``'s plan."""

    async def explain(tx: Any) -> Any:
        return (await (await tx.run("EXPLAIN " + statement)).consume()).plan

    found: list[tuple[str, str]] = []
    pending = [await graph.read(explain)]
    while pending:
        step = pending.pop()
        found.append((step["operatorType"].split("@")[0], step["args"].get("Details", "")))
        pending.extend(step.get("children", []))
    return found


# A node found by key, pinned to its index: the one kind of MATCH a fixed statement may hold.
HINTED = re.compile(r"MATCH \((\w+):(\w+) \{[^}]*\}\)\s+USING INDEX (\w+):(\w+)\(")


def unhinted(statement: str) -> list[str]:
    """The MATCH clauses of ``statement`` that are not one node pinned to an index by a hint.
    The planner seeks on an empty graph with or without one; the hint is what keeps it seeking
    on the statistics of another graph."""
    found = []
    for start in (m.start() for m in re.finditer(r"MATCH ", statement)):
        hinted = HINTED.match(statement, start)
        if hinted is None or hinted.group(1, 2) != hinted.group(3, 4):
            found.append(statement[start:].split("\n")[0])
    return found


def seeks(steps: list[tuple[str, str]]) -> set[str]:
    """The index of each seek, as ``Label(properties)``: ``n:Label(a, b)`` in the details."""
    found = set()
    for operator, details in steps:
        if "Seek" in operator:
            pattern = details.split(" WHERE ")[0].split(":", 1)[1]
            label, props = pattern.split("(", 1)
            names = [p.strip().split(" ")[0] for p in props.rstrip(")").split(",")]
            found.add(f"{label}({', '.join(names)})")
    return found


@pytest.mark.parametrize(
    ("name", "statement", "indexes"),
    [
        (
            "decision lookup",
            decisions.LOOKUP,
            {
                "RuleSet(status)",
                "Principal(id)",
                "Institution(id)",
                "Consent(patient, holder)",
                "Grant(holder, grantee)",
            },
        ),
        ("append at a guess", ledger.append_at_statement(), {"LedgerHead(id)"}),
        ("append on the locked head", ledger.entries_statement(), {"LedgerHead(id)"}),
        (
            "decisions appended at a guess, remembered facts guarded",
            ledger.append_at_statement(DECISION_WRITES, GUARD),
            {
                "LedgerHead(id)",
                "Institution(id)",
                "Decision(id)",
                "RuleSet(status)",
                "Principal(id)",
                "Consent(patient, holder)",
                "Grant(holder, grantee)",
            },
        ),
        (
            "decisions appended on the locked head",
            ledger.entries_statement(DECISION_WRITES),
            {"LedgerHead(id)", "Institution(id)", "Decision(id)"},
        ),
    ],
)
async def test_fixed_plans_find_every_node_through_an_index(
    graph: Graph, name: str, statement: str, indexes: set[str]
) -> None:
    assert statement.startswith(FIXED), name
    assert unhinted(statement) == [], name
    steps = await operators(graph, statement)
    assert [s for s in steps if s[0] in SCANS] == [], name
    assert seeks(steps) == indexes, name
