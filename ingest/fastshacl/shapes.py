"""Shapes compiled into plain Python checks, for the subset of SHACL the grading rules use.

Supported: node and property shapes with ``sh:targetClass``, ``sh:targetNode``,
``sh:targetSubjectsOf``, ``sh:targetObjectsOf``; predicate, inverse and sequence paths;
``sh:minCount``, ``sh:maxCount``, ``sh:hasValue`` (on property shapes), ``sh:class``,
``sh:datatype``, ``sh:nodeKind``, ``sh:in``, ``sh:pattern`` (with ``sh:flags``), the four range
constraints, ``sh:minLength``, ``sh:maxLength``, ``sh:node``, ``sh:not``, ``sh:and``, ``sh:or``,
``sh:xone``, ``sh:deactivated``; SHACL-AF triple rules with constant subject (``sh:this``),
predicate and object and any number of ``sh:condition`` shapes; SPARQL constraints on a targeted
shape, which are left to the full engine (``sparql``). Anything else raises ``Unsupported``, and
the grader then runs the full engine on everything, so a steward's new construct never meets a
checker that ignores it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH
from rdflib.term import Node as RdflibNode

from ingest.fastshacl.terms import (
    RDF_TYPE,
    Data,
    Lit,
    Node,
    Unreadable,
    comparable,
    from_rdflib,
    well_formed,
)

Check = Callable[[Data, Node], bool]
Step = tuple[bool, str]  # (inverse?, predicate)

_SH = str(SH)
_META = {
    f"{_SH}{n}"
    for n in (
        "message",
        "severity",
        "name",
        "description",
        "order",
        "group",
        "defaultValue",
        "deactivated",
    )
}
_TARGETS = {
    f"{_SH}{n}" for n in ("targetClass", "targetNode", "targetSubjectsOf", "targetObjectsOf")
}
_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}
_KINDS = {
    "IRI": (True, False, False),
    "BlankNode": (False, True, False),
    "Literal": (False, False, True),
    "BlankNodeOrIRI": (True, True, False),
    "BlankNodeOrLiteral": (False, True, True),
    "IRIOrLiteral": (True, False, True),
}


class Unsupported(ValueError):
    """The shapes use a construct this checker does not implement."""


@dataclass(frozen=True, slots=True)
class TripleRule:
    predicate: str
    object: Node
    conditions: tuple[Shape, ...]


@dataclass(eq=False, slots=True)
class Shape:
    node: RdflibNode  # in the shapes graph
    path: tuple[Step, ...] | None = None
    min_count: int | None = None
    max_count: int | None = None
    has_value: list[Node] = field(default_factory=list)
    simple: list[Check] = field(default_factory=list)  # value checks: sh:datatype, sh:in, ...
    logic: list[tuple[str, list[Shape]]] = field(default_factory=list)  # sh:node, sh:or, ...
    properties: list[Shape] = field(default_factory=list)
    deactivated: bool = False
    classes: list[str] = field(default_factory=list)  # targets
    nodes: list[Node] = field(default_factory=list)
    subjects_of: list[str] = field(default_factory=list)
    objects_of: list[str] = field(default_factory=list)
    rules: list[TripleRule] = field(default_factory=list)
    sparql: list[RdflibNode] = field(default_factory=list)
    reads: set[str] = field(default_factory=set)  # predicates its checks look at, nested included
    reads_data: bool = False  # some check looks past the value itself (sh:class, sh:node, ...)
    # A property shape whose verdict depends on its values alone remembers it per value tuple
    # (per count, if it only counts): tiers, levels, units and confidences repeat on every field.
    memo: dict[object, list[tuple[str, Node | None]]] | None = None
    # A node shape whose verdict depends on its focus node's values on these paths alone (each
    # with whether only their count matters): several property shapes or logic over such shapes,
    # as R-TIER-LEVEL and R-GRADED are, remembered per combination of values (``node_memo``).
    key_paths: tuple[tuple[tuple[Step, ...], bool], ...] | None = None
    node_memo: dict[object, list[tuple[str, Node | None, bool]]] | None = None

    @property
    def counts_only(self) -> bool:
        """Its verdict depends on how many values there are, not which (sh:hasValue does)."""
        return not self.simple and not self.logic and not self.has_value

    @property
    def name(self) -> str:
        """As validation results name their source shape: an IRI, or a blank node's id."""
        return str(self.node)

    @property
    def targeted(self) -> bool:
        return bool(self.classes or self.nodes or self.subjects_of or self.objects_of)

    def target_reads(self) -> set[str]:
        classes = {RDF_TYPE} if self.classes else set()
        return set(self.subjects_of) | set(self.objects_of) | classes


def _iri(g: Graph, node: RdflibNode, what: str) -> str:
    if not isinstance(node, URIRef):
        raise Unsupported(f"{what} must be an IRI")
    return str(node)


def _one(g: Graph, s: RdflibNode, p: URIRef) -> RdflibNode:
    values = list(g.objects(s, p))
    if len(values) != 1:
        raise Unsupported(f"{p} of {s} must have one value")
    return values[0]


def _path(g: Graph, node: RdflibNode) -> tuple[Step, ...]:
    if isinstance(node, URIRef):
        return ((False, str(node)),)
    if isinstance(node, BNode) and (node, SH.inversePath, None) in g:
        return ((True, _iri(g, _one(g, node, SH.inversePath), "an inverse path")),)
    if isinstance(node, BNode) and (node, RDF.first, None) in g:
        steps: list[Step] = []
        for item in Collection(g, node):
            steps += _path(g, item)  # a nested sequence means the same flattened
        return tuple(steps)
    raise Unsupported(f"path {node} (only predicate, inverse and sequence paths)")


def _int(node: RdflibNode) -> int:
    if not isinstance(node, Literal) or not isinstance(node.toPython(), int):
        raise Unsupported(f"{node} is not an integer")
    return int(node.toPython())


def _text(node: Node) -> str | None:
    """The string sh:pattern and the length constraints look at (None for a blank node)."""
    if isinstance(node, Lit):
        return node.lex
    return None if node.startswith("_:") else node


def _range(bound: RdflibNode, accept: Callable[[int], bool]) -> Check:
    b = comparable(from_rdflib(bound))
    if b is None:
        raise Unsupported(f"range bound {bound}")

    def check(_: Data, v: Node) -> bool:
        c = comparable(v)
        if c is None or c[0] != b[0]:
            return False
        return accept((c[1] > b[1]) - (c[1] < b[1]))  # type: ignore[operator]

    return check


class Compiler:
    def __init__(self, g: Graph) -> None:
        self.g = g
        self.done: dict[RdflibNode, Shape] = {}
        self.busy: set[RdflibNode] = set()

    def shape(self, node: RdflibNode, top: bool = False) -> Shape:
        if node in self.done:
            return self.done[node]
        if node in self.busy:
            raise Unsupported(f"recursive shape {node}")
        self.busy.add(node)
        shape = self._compile(node, top)
        self.busy.discard(node)
        self.done[node] = shape
        return shape

    def _shapes(self, lst: RdflibNode) -> list[Shape]:
        return [self.shape(n) for n in Collection(self.g, lst)]

    def _compile(self, node: RdflibNode, top: bool) -> Shape:
        g = self.g
        s = Shape(node)
        path_node = g.value(node, SH.path)
        if path_node is not None:
            s.path = _path(g, path_node)
            s.reads.update(p for _, p in s.path)
        for p, o in g.predicate_objects(node):
            self._constraint(s, node, str(p), o, top)
        for prop in s.properties:
            s.reads |= prop.reads
        if s.path is not None and not s.properties and not s.reads_data and not s.deactivated:
            s.memo = {}
        if s.path is None and not s.deactivated and (s.logic or len(s.properties) > 1):
            paths = _value_paths(s)
            if paths is not None:
                s.key_paths = tuple(sorted(paths.items()))
                s.node_memo = {}
        return s

    def _constraint(self, s: Shape, node: RdflibNode, p: str, o: RdflibNode, top: bool) -> None:
        g = self.g
        if not p.startswith(_SH):
            if p == str(RDF.type) and o in (
                RDFS.Class,
                URIRef("http://www.w3.org/2002/07/owl#Class"),
            ):
                raise Unsupported("implicit class targets")
            return  # annotations (rdf:type sh:NodeShape, hs:ruleId, labels, ...)
        name = p[len(_SH) :]
        if p in _META or name in ("path", "flags"):  # sh:flags is read with sh:pattern
            if name == "deactivated":
                s.deactivated = isinstance(o, Literal) and o.toPython() is True
            return
        if name == "targetClass":
            s.classes.append(_iri(g, o, "sh:targetClass"))
        elif name == "targetNode":
            s.nodes.append(from_rdflib(o))
        elif name == "targetSubjectsOf":
            s.subjects_of.append(_iri(g, o, "sh:targetSubjectsOf"))
        elif name == "targetObjectsOf":
            s.objects_of.append(_iri(g, o, "sh:targetObjectsOf"))
        elif name == "property":
            prop = self.shape(o)
            if prop.path is None:
                raise Unsupported(f"property shape {o} has no sh:path")
            s.properties.append(prop)
        elif name in ("minCount", "maxCount"):
            if s.path is None:
                raise Unsupported(f"sh:{name} on a node shape")
            setattr(s, "min_count" if name == "minCount" else "max_count", _int(o))
        elif name == "hasValue":
            if s.path is None:
                raise Unsupported("sh:hasValue on a node shape")
            s.has_value.append(from_rdflib(o))
        elif name == "rule":
            s.rules.append(self._rule(o))
        elif name == "sparql":
            if not top:
                raise Unsupported("a SPARQL constraint in a shape used inside another")
            s.sparql.append(o)
        elif name in ("node", "not", "and", "or", "xone"):
            shapes = [self.shape(o)] if name in ("node", "not") else self._shapes(o)
            s.logic.append((name, shapes))
            s.reads_data = True
            for inner in shapes:
                s.reads |= inner.reads
        else:
            s.simple.append(self._value_check(s, node, name, o))

    def _value_check(self, s: Shape, node: RdflibNode, name: str, o: RdflibNode) -> Check:
        g = self.g
        if name == "class":
            cls = _iri(g, o, "sh:class")
            s.reads.add(RDF_TYPE)
            s.reads_data = True
            return lambda data, v: isinstance(v, str) and cls in data.values(v, RDF_TYPE)
        if name == "datatype":
            dt = _iri(g, o, "sh:datatype")
            return lambda _, v: isinstance(v, Lit) and v.datatype == dt and well_formed(v)
        if name == "nodeKind":
            kind = _KINDS.get(_iri(g, o, "sh:nodeKind")[len(_SH) :])
            if kind is None:
                raise Unsupported(f"sh:nodeKind {o}")
            iri, blank, lit = kind
            return lambda _, v: lit if isinstance(v, Lit) else blank if v.startswith("_:") else iri
        if name == "in":
            allowed = frozenset(from_rdflib(x) for x in Collection(g, o))
            return lambda _, v: v in allowed
        if name == "pattern":
            flags = 0
            for f in str(g.value(node, SH.flags) or ""):
                flags |= _FLAGS.get(f, 0)
            rx = re.compile(str(o), flags)
            return lambda _, v: (t := _text(v)) is not None and rx.search(t) is not None
        if name in ("minInclusive", "maxInclusive", "minExclusive", "maxExclusive"):
            accept: dict[str, Callable[[int], bool]] = {
                "minInclusive": lambda c: c >= 0,
                "maxInclusive": lambda c: c <= 0,
                "minExclusive": lambda c: c > 0,
                "maxExclusive": lambda c: c < 0,
            }
            return _range(o, accept[name])
        if name in ("minLength", "maxLength"):
            n = _int(o)
            if name == "minLength":
                return lambda _, v: (t := _text(v)) is not None and len(t) >= n
            return lambda _, v: (t := _text(v)) is not None and len(t) <= n
        raise Unsupported(f"sh:{name}")

    def _rule(self, node: RdflibNode) -> TripleRule:
        g = self.g
        known = {RDF.type, SH.subject, SH.predicate, SH.object, SH.condition}
        if any(p not in known for p in g.predicates(node)):
            raise Unsupported(f"rule {node} uses more than subject, predicate, object, condition")
        if (node, RDF.type, SH.TripleRule) not in g or g.value(node, SH.subject) != SH.this:
            raise Unsupported(f"rule {node}: only triple rules about sh:this")
        obj = _one(g, node, SH.object)
        if isinstance(obj, BNode):
            raise Unsupported(f"rule {node}: the object is a node expression")
        predicate = _iri(g, _one(g, node, SH.predicate), "a rule's predicate")
        conditions = tuple(self.shape(c) for c in g.objects(node, SH.condition))
        return TripleRule(predicate, from_rdflib(obj), conditions)


def _value_paths(s: Shape) -> dict[tuple[Step, ...], bool] | None:
    """The paths a node shape's verdict depends on, each with whether only the number of values
    counts; None if it depends on more (a check of the focus node itself, or of data past a
    value: sh:class, a nested shape). Through ``sh:node``, ``sh:or``, ... the focus node is the
    same, so nested node shapes add their paths."""
    paths: dict[tuple[Step, ...], bool] = {}
    if s.deactivated:
        return paths  # conforms whatever the values
    if s.simple:
        return None
    members = list(s.properties) + [x for _, shapes in s.logic for x in shapes]
    for x in members:
        if x.path is None:
            inner = _value_paths(x)
            if inner is None:
                return None
        elif x.memo is not None:
            inner = {x.path: x.counts_only}
        else:
            return None
        for path, counted in inner.items():
            paths[path] = paths.get(path, True) and counted
    return paths


def compile_shapes(g: Graph) -> list[Shape]:
    """Every targeted shape of ``g``, compiled; ``Unsupported`` names what is not."""
    compiler = Compiler(g)
    tops = {s for p in _TARGETS for s in g.subjects(URIRef(p), None)}
    try:
        return [compiler.shape(node, top=True) for node in sorted(tops, key=str)]
    except Unreadable as e:
        raise Unsupported(str(e)) from e
