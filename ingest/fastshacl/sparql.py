"""One form of SPARQL constraint checked natively: a time compared with NOW().

    SELECT $this ?value WHERE { $this <p> ?value . FILTER ( ?value > NOW() ) }

with any of ``<``, ``<=``, ``>``, ``>=`` on either side of ``NOW()``: "an event is not in the
future" (R-NOT-FUTURE) and its kin. Sending such a constraint to the full engine cost more than
all the compiled checks of a file (~60 ms per 1,000 FHIR records: writing the triples it reads
as text, parsing them again, a query per focus node), for a comparison per value.

Natively, a value is judged only when it is a timezoned ``xsd:dateTime`` in the plain form
below, whose instant Python and every SPARQL engine compare alike. Any other value — no zone
(the SPARQL engines differ on it), another type, an unusual lexical form — and the caller gives
the whole constraint to the full engine for that graph, as before (``evaluate`` returns None).
Any other query, however close, is never recognised.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rdflib import URIRef, Variable

from ingest.fastshacl.terms import XSD, Data, Lit, Node

DATE_TIME = XSD + "dateTime"
# xsd:dateTime with a zone, years 0001-9999, at most microseconds, no 24:00:00: the forms whose
# instant datetime.fromisoformat gives exactly (an invalid day still raises: then the engine).
_PLAIN = re.compile(
    r"^[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])T(?:[01][0-9]|2[0-3]):[0-5][0-9]:"
    r"[0-5][0-9](?:\.[0-9]{1,6})?(?:Z|[+-](?:(?:0[0-9]|1[0-3]):[0-5][0-9]|14:00))$"
)
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}
_THIS, _VALUE = Variable("this"), Variable("value")

Result = tuple[Node, str, Node | None]


@dataclass(frozen=True, slots=True)
class NowComparison:
    source: str  # the constraint's node, as results name it
    predicate: str
    op: str  # ?value op NOW()

    def evaluate(self, data: Data, foci: Sequence[Node]) -> list[Result] | None:
        """A result per value that compares true, as the engine would report it; None if a value
        is not one this module judges."""
        now = datetime.now(UTC)
        compare = _OPS[self.op]
        out: list[Result] = []
        for focus in foci:
            for v in data.values(focus, self.predicate):
                moment = _moment(v)
                if moment is None:
                    return None
                if compare(moment, now):
                    out.append((focus, self.source, v))
        return out


def _moment(v: Node) -> datetime | None:
    if not isinstance(v, Lit) or v.datatype != DATE_TIME or _PLAIN.match(v.lex) is None:
        return None
    try:
        return datetime.fromisoformat(v.lex)
    except ValueError:
        return None


def _name(node: Any) -> str | None:
    return getattr(node, "name", None) if isinstance(node, dict) else None


def _part(node: Any, key: str) -> Any:
    # dict.get: a CompValue's own get() answers a missing key with the key's name.
    return dict.get(node, key) if isinstance(node, dict) else None


def _only(node: Any, name: str, keys: set[str]) -> bool:
    """A CompValue of this name with no parts other than these (and rdflib's own ``_vars``)."""
    return _name(node) == name and set(dict.keys(node)) - {"_vars"} == keys


def recognise(algebra: Any, source: str) -> NowComparison | None:
    """The comparison a prepared query's algebra states, if it has exactly the form above."""
    if not _only(algebra, "SelectQuery", {"p", "PV", "datasetClause"}):
        return None
    if _part(algebra, "datasetClause") is not None:
        return None
    project = _part(algebra, "p")
    if not _only(project, "Project", {"p", "PV"}):
        return None
    if list(_part(project, "PV")) != [_THIS, _VALUE]:
        return None
    filtered = _part(project, "p")
    if not _only(filtered, "Filter", {"expr", "p"}):
        return None
    bgp = _part(filtered, "p")
    if not _only(bgp, "BGP", {"triples"}):
        return None
    triples = _part(bgp, "triples")
    if len(triples) != 1:
        return None
    subject, predicate, obj = triples[0]
    if subject != _THIS or obj != _VALUE or not isinstance(predicate, URIRef):
        return None
    expr = _part(filtered, "expr")
    if not _only(expr, "RelationalExpression", {"expr", "op", "other"}):
        return None
    op = str(_part(expr, "op"))
    left, right = _part(expr, "expr"), _part(expr, "other")
    if op not in _OPS:
        return None
    if left == _VALUE and _only(right, "Builtin_NOW", set()):
        return NowComparison(source, str(predicate), op)
    if right == _VALUE and _only(left, "Builtin_NOW", set()):
        return NowComparison(source, str(predicate), _FLIPPED[op])
    return None
