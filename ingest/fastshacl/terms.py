"""RDF terms and a data graph indexed for shape checking, read from N-Triples text.

Nodes are plain values so that the checks are dictionary look-ups: an IRI is its string, a blank
node its ``_:`` label, a literal a ``Lit`` (lexical form, datatype, language), with plain strings
given ``xsd:string`` as RDF 1.1 does, so that term equality is tuple equality.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

from rdflib import BNode, Literal, URIRef
from rdflib.term import Node as RdflibNode

XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
RDFS_SUBCLASS_OF = "http://www.w3.org/2000/01/rdf-schema#subClassOf"
STRING = XSD + "string"

# One triple per line, as N-Triples writes it (and as ``ingest.rdf.build`` and rdflib do).
_TRIPLE = re.compile(
    r'^(<[^>]*>|_:\S+) <([^>]*)> (<[^>]*>|_:\S+|"(?:[^"\\]|\\.)*"(?:\^\^<[^>]*>|@[A-Za-z0-9-]+)?)'
    r" \.[ \t]*$",
    re.MULTILINE,
)
_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))")
_ESCAPED = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
_INTEGER_TYPES = frozenset(
    XSD + t
    for t in (
        "integer",
        "long",
        "int",
        "short",
        "byte",
        "nonNegativeInteger",
        "nonPositiveInteger",
        "positiveInteger",
        "negativeInteger",
        "unsignedLong",
        "unsignedInt",
        "unsignedShort",
        "unsignedByte",
    )
)
_DECIMAL = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$")
_INTEGER = re.compile(r"^[+-]?[0-9]+$")


class Lit(NamedTuple):
    lex: str
    datatype: str
    lang: str | None = None


Node = str | Lit


class Unreadable(ValueError):
    """The text is not N-Triples this reader understands; the caller uses the full engine."""


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text

    def one(m: re.Match[str]) -> str:
        code = m.group(1) or m.group(2)
        if code:
            return chr(int(code, 16))
        if m.group(3) not in _ESCAPED:
            raise Unreadable(f"unknown escape \\{m.group(3)}")
        return _ESCAPED[m.group(3)]

    return _ESCAPE.sub(one, text)


def node_of(raw: str, literals: dict[str, Lit]) -> Node:
    """The node an N-Triples term stands for (literals are cached: values repeat a lot)."""
    if raw[0] == "<":
        return raw[1:-1]
    if raw[0] == "_":
        return raw
    found = literals.get(raw)
    if found is None:
        close = raw.rindex('"')
        lex, rest = _unescape(raw[1:close]), raw[close + 1 :]
        if rest.startswith("^^"):
            found = Lit(lex, rest[3:-1])
        elif rest.startswith("@"):
            found = Lit(lex, RDF_LANG_STRING, rest[1:].lower())
        else:
            found = Lit(lex, STRING)
        literals[raw] = found
    return found


def from_rdflib(term: RdflibNode) -> Node:
    """The node for a term of the shapes graph."""
    if isinstance(term, Literal):
        if term.language:
            return Lit(str(term), RDF_LANG_STRING, term.language.lower())
        return Lit(str(term), str(term.datatype) if term.datatype else STRING)
    if isinstance(term, BNode):
        return f"_:{term}"
    if isinstance(term, URIRef):
        return str(term)
    raise Unreadable(f"unsupported term {term!r}")


def to_ntriples(node: Node) -> str:
    if isinstance(node, Lit):
        lex = (
            node.lex.replace("\\", "\\\\")
            .replace('"', '\\"')
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
        if node.lang is not None:
            return f'"{lex}"@{node.lang}'
        return f'"{lex}"' if node.datatype == STRING else f'"{lex}"^^<{node.datatype}>'
    return node if node.startswith("_:") else f"<{node}>"


def shown(node: Node) -> str:
    """A node as validation results name it: an IRI, a blank node's label, a lexical form."""
    if isinstance(node, Lit):
        return node.lex
    return node[2:] if node.startswith("_:") else node


def well_formed(lit: Lit) -> bool:
    """Whether the lexical form is valid for its datatype (an ill-typed literal fails
    ``sh:datatype``). Common types are checked here; the rest as rdflib judges them."""
    dt = lit.datatype
    if dt in (STRING, RDF_LANG_STRING):
        return True
    if dt == XSD + "decimal":
        return _DECIMAL.match(lit.lex) is not None
    if dt == XSD + "integer":
        return _INTEGER.match(lit.lex) is not None
    return not Literal(lit.lex, datatype=URIRef(dt)).ill_typed


Comparable = tuple[int, Decimal | datetime | date | str]


def comparable(node: Node) -> Comparable | None:
    """A literal's value with its comparison family, or None where SPARQL cannot order it."""
    if not isinstance(node, Lit):
        return None
    dt = node.datatype
    try:
        if dt == XSD + "decimal" or dt in _INTEGER_TYPES:
            return (0, Decimal(node.lex)) if well_formed(node) else None
        if dt in (XSD + "double", XSD + "float"):
            value = Decimal(node.lex)
            return None if value.is_nan() else (0, value)
        if dt == XSD + "dateTime":
            moment = datetime.fromisoformat(node.lex)
            return (1 if moment.tzinfo else 2, moment)  # with and without a zone do not compare
        if dt == XSD + "date":
            return (3, date.fromisoformat(node.lex))
        if dt == STRING:
            return (4, node.lex)
    except (ValueError, InvalidOperation):
        return None
    return None


class Data:
    """A data graph indexed by subject, class and predicate, with set semantics.

    ``out[s][p]`` lists the objects of (s, p) without repeats; ``subjects_of[p]`` the subjects
    with p, each once; ``by_class[c]`` the subjects typed c. ``ingest.rdf.build`` fills these
    directly, so they must stay consistent with what ``add`` would make.

    Only the indexes every validation needs are kept as triples arrive; the reverse index (for
    inverse paths and ``sh:targetObjectsOf``) is built the first time a shape asks for it.

    ``scratch`` holds what checks remember about this graph as it is (ingest.fastshacl.batch);
    adding a triple empties it."""

    def __init__(self) -> None:
        self.out: dict[str, dict[str, list[Node]]] = {}
        self.by_class: dict[str, list[str]] = {}
        self.subjects_of: dict[str, list[str]] = {}
        self._into: dict[Node, dict[str, list[str]]] | None = None
        self.scratch: dict[tuple[str, int], dict[Any, Any]] = {}

    def add(self, s: str, p: str, o: Node) -> bool:
        """Add a triple; False if it was there already."""
        by_p = self.out.get(s)
        if by_p is None:
            by_p = self.out[s] = {}
        values = by_p.get(p)
        if values is None:
            by_p[p] = [o]
            self.subjects_of.setdefault(p, []).append(s)
        elif o in values:
            return False
        else:
            values.append(o)
        if p == RDF_TYPE and isinstance(o, str):
            self.by_class.setdefault(o, []).append(s)
        if self._into is not None:
            self._into.setdefault(o, {}).setdefault(p, []).append(s)
        if self.scratch:
            self.scratch.clear()
        return True

    def add_all(self, subjects: Iterable[str], p: str, o: Node) -> None:
        """``add`` of (s, p, o) for every s in order, in one loop (a rule's inferences)."""
        if p == RDF_TYPE or self._into is not None:
            for s in subjects:
                self.add(s, p, o)
            return
        out = self.out
        new_subjects: list[str] = []
        added = False
        for s in subjects:
            by_p = out.get(s)
            if by_p is None:
                by_p = out[s] = {}
            values = by_p.get(p)
            if values is None:
                by_p[p] = [o]
                new_subjects.append(s)
            elif o in values:
                continue
            else:
                values.append(o)
            added = True
        if new_subjects:
            self.subjects_of.setdefault(p, []).extend(new_subjects)
        if added and self.scratch:
            self.scratch.clear()

    def values(self, s: Node, p: str) -> list[Node]:
        if isinstance(s, Lit):
            return []
        by_p = self.out.get(s)
        return [] if by_p is None else by_p.get(p, [])

    def inverse(self, o: Node, p: str) -> list[str]:
        if self._into is None:
            self._into = {}
            for s, q, x in self.triples():
                self._into.setdefault(x, {}).setdefault(q, []).append(s)
        return self._into.get(o, {}).get(p, [])

    def ntriples(self) -> str:
        return "".join(f"{to_ntriples(s)} <{p}> {to_ntriples(o)} .\n" for s, p, o in self.triples())

    def triples(self) -> Iterator[tuple[str, str, Node]]:
        for s, by_p in self.out.items():
            for p, objects in by_p.items():
                for o in objects:
                    yield s, p, o

    def objects_of(self, p: str) -> list[Node]:
        seen: dict[Node, None] = {}
        for s in self.subjects_of.get(p, []):
            seen.update(dict.fromkeys(self.out[s][p]))
        return list(seen)


_LINE = re.compile(r"^[ \t]*[^\s#]", re.MULTILINE)


def read_ntriples(text: str) -> Data:
    """Index N-Triples text; ``Unreadable`` if any line is not a triple this reader knows."""
    data = Data()
    literals: dict[str, Lit] = {}
    found = _TRIPLE.findall(text)
    if len(found) != len(_LINE.findall(text)):
        raise Unreadable("a line is not a plain N-Triples triple")
    add = data.add
    for s, p, o in found:
        add(s[1:-1] if s[0] == "<" else s, p, node_of(o, literals))
    if RDFS_SUBCLASS_OF in data.subjects_of:
        # Class targets and sh:class would have to follow subclasses: leave that to the engine.
        raise Unreadable("the data graph declares subclasses")
    return data
