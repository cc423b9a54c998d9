"""The service's graph schema: every domain's constraints, indexes and seeds, in one list.

Each domain declares its part next to its Cypher (``SCHEMA`` in its repository); this module
composes them, so kgservice/graph/ stays free of any domain. A new domain with a constraint
or an index adds its part here.
"""

from __future__ import annotations

from kgservice.auth import repository as auth
from kgservice.consents import repository as consents
from kgservice.decisions import repository as decisions
from kgservice.grants import repository as grants
from kgservice.graph import schema
from kgservice.graph.database import Graph
from kgservice.institutions import repository as institutions
from kgservice.ledger import repository as ledger
from kgservice.records import repository as records
from kgservice.reviews import repository as reviews
from kgservice.rulesets import repository as rulesets
from kgservice.settlements import repository as settlements

PARTS: tuple[schema.SchemaPart, ...] = (
    ledger.SCHEMA,
    auth.SCHEMA,
    institutions.SCHEMA,
    records.SCHEMA,
    consents.SCHEMA,
    decisions.SCHEMA,
    grants.SCHEMA,
    reviews.SCHEMA,
    rulesets.SCHEMA,
    settlements.SCHEMA,
)


async def ensure_schema(graph: Graph) -> None:
    """Create what every domain needs of the graph if missing (kgservice/graph/schema.py)."""
    await schema.ensure(graph, PARTS)
