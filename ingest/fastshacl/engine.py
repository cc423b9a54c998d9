"""Validation with compiled shapes: rules first, then every constraint, as pySHACL runs them.

Triple rules run in one pass. That is the fixed point only because no rule's targets or
conditions read a predicate that rules infer; ``Validator`` refuses shapes where one does (they
would depend on the order rules run in). SPARQL constraints go to the full engine, with only the
triples their queries can match: a triple pattern with a constant predicate matches no triple
with another predicate, so leaving those out changes no solution.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rdflib import BNode, Graph, Literal, URIRef, Variable
from rdflib.namespace import OWL, RDF, RDFS, SH, XSD
from rdflib.paths import AlternativePath, InvPath, MulPath, SequencePath
from rdflib.plugins.sparql import prepareQuery
from rdflib.term import Node as RdflibNode

from ingest.fastshacl.batch import Result, batch_results, failing
from ingest.fastshacl.shapes import Shape, Unsupported, compile_shapes
from ingest.fastshacl.sparql import NowComparison, recognise
from ingest.fastshacl.terms import RDF_TYPE, Data, Node, read_ntriples, to_ntriples

_TARGET_PREDICATES = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
# What a SPARQL constraint judged natively may say besides its query (ingest.fastshacl.sparql).
_PLAIN_CONSTRAINT = {SH.select, SH.prefixes, SH.message, SH.deactivated, RDF.type}


@dataclass(frozen=True, slots=True)
class Outcome:
    data: Data  # the data graph with what the rules inferred
    results: list[Result]  # de-duplicated, shape by shape
    delegated: str | None  # N-Triples for the SPARQL constraints, if any
    # Shapes whose SPARQL constraints were judged here: the engine's results for them (it has
    # them all) do not count.
    native: frozenset[str]


def targets(data: Data, s: Shape) -> list[Node]:
    found: dict[Node, None] = dict.fromkeys(s.nodes)
    for cls in s.classes:
        found.update(dict.fromkeys(data.by_class.get(cls, [])))
    for p in s.subjects_of:
        found.update(dict.fromkeys(data.subjects_of.get(p, [])))
    for p in s.objects_of:
        found.update(dict.fromkeys(data.objects_of(p)))
    return list(found)


_THIS = Variable("this")


@dataclass(slots=True)
class Reads:
    """What a SPARQL constraint's query can match: triples with these predicates (None: any),
    and, if ``star``, only those whose subject is the focus node (every pattern is
    ``$this <p> ?o``, in no subquery)."""

    predicates: set[str] | None
    star: bool


def _path_iris(path: Any, found: set[str]) -> bool:
    if isinstance(path, URIRef):
        found.add(str(path))
        return True
    if isinstance(path, SequencePath | AlternativePath):
        return all(_path_iris(a, found) for a in path.args)
    if isinstance(path, MulPath):
        return _path_iris(path.path, found)
    if isinstance(path, InvPath):
        return _path_iris(path.arg, found)
    return False  # a negated path (or anything new) can match any predicate


def analyse(algebra: Any) -> Reads:
    found: set[str] = set()
    reads = Reads(found, True)
    projections = 0
    stack = [algebra]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if getattr(node, "name", None) == "Project":
                projections += 1
            # dict.get: a CompValue's own get() answers a missing key with the key's name.
            for pattern in dict.get(node, "triples") or []:
                subject, predicate, _ = pattern
                reads.star &= subject == _THIS and isinstance(predicate, URIRef)
                if isinstance(predicate, Variable) or not _path_iris(predicate, found):
                    reads.predicates = None
            stack.extend(v for k, v in dict.items(node) if k != "triples")
        elif isinstance(node, list | tuple | set):
            stack.extend(node)
    reads.star &= projections == 1
    return reads


def _describe(g: Graph, node: RdflibNode, out: Graph) -> None:
    """Copy a node's triples, following blank nodes and the prefixes a query declares."""
    for p, o in g.predicate_objects(node):
        out.add((node, p, o))
        if isinstance(o, BNode):
            _describe(g, o, out)
        if p == SH.prefixes:
            for decl in g.objects(o, SH.declare):
                out.add((o, SH.declare, decl))
                _describe(g, decl, out)


class Delegation:
    """The SPARQL constraints of some shapes, and which triples their queries can read."""

    def __init__(self, g: Graph, shapes: list[Shape]) -> None:
        self.graph = Graph()
        for name, ns in g.namespaces():
            self.graph.bind(name, ns)
        namespaces: dict[str, Any] = {"rdf": RDF, "rdfs": RDFS, "xsd": XSD, "owl": OWL, "sh": SH}
        for decl in g.objects(None, SH.declare):
            prefix, iri = g.value(decl, SH.prefix), g.value(decl, SH.namespace)
            if isinstance(prefix, Literal) and isinstance(iri, Literal):
                namespaces[str(prefix)] = URIRef(str(iri))
        self.shapes = shapes
        self.reads: dict[int, Reads] = {}
        # Shapes whose every SPARQL constraint is a comparison with NOW() (ingest.fastshacl.sparql)
        self.native: dict[int, list[NowComparison]] = {}
        for s in shapes:
            self.graph.add((s.node, RDF.type, SH.NodeShape))
            for p in _TARGET_PREDICATES:
                for o in g.objects(s.node, p):
                    self.graph.add((s.node, p, o))
            for p in (SH.severity, SH.message):
                for o in g.objects(s.node, p):
                    self.graph.add((s.node, p, o))
            # The engine finds the targets again: their triples go with the query's.
            reads = Reads(set(s.subjects_of + s.objects_of), not s.objects_of)
            native: list[NowComparison] | None = []
            for part in s.sparql:
                if any(
                    isinstance(o, Literal) and o.toPython() is True
                    for o in g.objects(part, SH.deactivated)
                ):
                    continue  # as pySHACL leaves it out (shifty would run it)
                self.graph.add((s.node, SH.sparql, part))
                _describe(g, part, self.graph)
                algebra = self._algebra(g, part, namespaces)
                query = Reads(None, False) if algebra is None else analyse(algebra)
                reads.star &= query.star
                if query.predicates is None or reads.predicates is None:
                    reads.predicates = None
                else:
                    reads.predicates |= query.predicates
                plain = set(g.predicates(part)) <= _PLAIN_CONSTRAINT
                comparison = recognise(algebra, s.name) if plain and algebra is not None else None
                native = None if comparison is None or native is None else [*native, comparison]
            self.reads[id(s)] = reads
            if native is not None:
                self.native[id(s)] = native

    @staticmethod
    def _algebra(g: Graph, part: RdflibNode, namespaces: dict[str, Any]) -> Any:
        text = g.value(part, SH.select)
        if not isinstance(text, Literal):
            return None
        try:
            return prepareQuery(str(text), initNs=namespaces).algebra
        except Exception:
            return None

    def split(self, data: Data) -> tuple[list[Result], list[Shape]]:
        """The results of the shapes judged without the engine, and the shapes left to it (a
        query of another form, or a value the native comparison does not judge)."""
        out: list[Result] = []
        rest: list[Shape] = []
        for s in self.shapes:
            found = self._native(data, s)
            if found is None:
                rest.append(s)
            else:
                out += found
        return out, rest

    def _native(self, data: Data, s: Shape) -> list[Result] | None:
        comparisons = self.native.get(id(s))
        if comparisons is None:
            return None
        foci = targets(data, s)
        out: list[Result] = []
        for c in comparisons:
            found = c.evaluate(data, foci)
            if found is None:
                return None
            out += found
        return out

    def subset(self, data: Data, shapes: list[Shape]) -> str:
        """The triples these of the delegated shapes can read, as N-Triples."""
        keep: dict[tuple[str, str, Node], None] = {}
        for s in shapes:
            reads = self.reads[id(s)]
            if reads.predicates is None:
                return data.ntriples()
            wanted = reads.predicates | ({RDF_TYPE} if s.classes else set())
            if reads.star:
                for focus in targets(data, s):
                    if isinstance(focus, str):
                        for p in wanted:
                            keep.update(dict.fromkeys((focus, p, o) for o in data.values(focus, p)))
            else:
                keep.update(dict.fromkeys(t for t in data.triples() if t[1] in wanted))
        return "\n".join(_line(t) for t in keep) + "\n"


def _line(t: tuple[str, str, Node]) -> str:
    return f"{to_ntriples(t[0])} <{t[1]}> {to_ntriples(t[2])} ."


class Validator:
    """Compiled shapes of one shapes graph. ``reported`` names the shapes (and their parts)
    whose results the caller wants; rules run whatever their shape."""

    def __init__(self, g: Graph, reported: set[str]) -> None:
        compiled = compile_shapes(g)
        self.rule_shapes = [s for s in compiled if s.rules]
        self.check_shapes = [s for s in compiled if s.name in reported and not s.deactivated]
        inferred = {r.predicate for s in self.rule_shapes for r in s.rules}
        if RDF_TYPE in inferred:
            raise Unsupported("a rule infers rdf:type, which targets and sh:class read")
        for s in self.rule_shapes:
            if s.deactivated:
                raise Unsupported(f"{s.name} has rules and is deactivated")
            reads = s.target_reads().union(*(c.reads for r in s.rules for c in r.conditions))
            if reads & inferred:
                raise Unsupported(f"the rules of {s.name} depend on what rules infer")
        delegated = [s for s in self.check_shapes if s.sparql]
        self.delegation = Delegation(g, delegated) if delegated else None

    def run(self, graph: str | Data) -> Outcome:
        """Validate N-Triples text (``Unreadable`` if it is not plain N-Triples) or an indexed
        graph, which gains the inferred triples (as pySHACL's ``inplace`` does)."""
        data = read_ntriples(graph) if isinstance(graph, str) else graph
        for p, o, subjects in self._inferred(data):
            data.add_all(subjects, p, o)
        found: dict[Result, None] = {}
        for shape in self.check_shapes:
            found.update(dict.fromkeys(batch_results(data, shape, targets(data, shape))))
        delegated, native = None, frozenset[str]()
        if self.delegation is not None:
            results, rest = self.delegation.split(data)
            found.update(dict.fromkeys(results))
            native = frozenset(s.name for s in self.delegation.shapes if s not in rest)
            if rest:
                delegated = self.delegation.subset(data, rest)
        return Outcome(data, list(found), delegated, native)

    def _inferred(self, data: Data) -> list[tuple[str, Node, list[str]]]:
        """What every rule infers from the graph as it is: (predicate, object, subjects), in the
        order pySHACL would add the triples. Rules that share their conditions share the
        judgement of them (a grading shape's four rules have the same)."""
        out: list[tuple[str, Node, list[str]]] = []
        for s in self.rule_shapes:
            foci = [f for f in targets(data, s) if isinstance(f, str)]  # literals: no subjects
            bad: dict[int, set[Node]] = {}
            kept: dict[tuple[int, ...], list[str]] = {}
            for rule in s.rules:
                key = tuple(id(c) for c in rule.conditions)
                ok = kept.get(key)
                if ok is None:
                    for c in rule.conditions:
                        if id(c) not in bad:
                            bad[id(c)] = failing(data, c, foci)
                    excluded = set().union(*(bad[id(c)] for c in rule.conditions))
                    ok = kept[key] = [f for f in foci if f not in excluded]
                out.append((rule.predicate, rule.object, ok))
        return out
