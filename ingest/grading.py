"""Grading and validation with the SHACL rules in ``shapes/`` (pySHACL, the reference semantics).

One ``Grader`` per process holds the parsed shapes. ``grade`` runs SHACL-AF rules (which add
category, level, tier and the grading rule's id to every field) and then every constraint, on the
whole submission at once: one validation per submission, not per record, is what makes batches
fast. Results carry the rule id, severity, and the rule's message in zh and en.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import cast

import shifty
from pyshacl import validate
from rdflib import BNode, Graph, Literal, Node, URIRef
from rdflib.namespace import RDF, SH

from ingest.rdf import HS

SHAPES_DIR = Path(__file__).resolve().parent.parent / "shapes"
RULE_FILES = ("grading.ttl", "records.ttl")


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    severity: str  # "Violation", "Warning", "Info"
    message_zh: str
    message_en: str
    article: str


@dataclass(frozen=True, slots=True)
class Finding:
    focus: Node
    rule: Rule
    detail: str  # what the engine says exactly (which property, which value)


@dataclass(frozen=True, slots=True)
class Grade:
    category: str  # local name, e.g. "HealthStatus"
    level: int
    tier: str  # "Public", "GeneralMedical", "CorePrivacy"
    rule: str


def _local(node: Node) -> str:
    return str(node).rsplit("#", 1)[-1]


def _messages(g: Graph, node: Node) -> tuple[str, str]:
    zh = en = ""
    for m in g.objects(node, SH.message):
        if isinstance(m, Literal) and m.language == "zh":
            zh = str(m)
        elif isinstance(m, Literal) and m.language == "en":
            en = str(m)
    return zh, en


def name_rule_parts(shapes: Graph) -> Graph:
    """Give blank-node property shapes and SPARQL constraints of each rule an IRI.

    Validation results name the shape that failed; a blank node loses its identity when an
    engine copies the shapes graph, so the part could no longer be traced to its rule. Lists
    (``sh:in``, sequence paths) stay blank nodes, as SHACL requires.
    """
    out = Graph()
    for prefix, ns in shapes.namespaces():
        out.bind(prefix, ns)
    renamed: dict[Node, URIRef] = {}
    for owner, rule_id in shapes.subject_objects(HS.ruleId):
        for predicate in (SH.property, SH.sparql):
            for n, part in enumerate(shapes.objects(owner, predicate)):
                if isinstance(part, BNode):
                    renamed[part] = URIRef(
                        f"urn:health-shield:rule:{rule_id}:{_local(predicate)}{n}"
                    )
    for s, p, o in shapes:
        out.add((renamed.get(s, s), p, renamed.get(o, o)))
    return out


class Engine(StrEnum):
    """SHACL engines. pySHACL is the reference semantics; shifty (Rust) is the fast path, held
    to the same verdicts by the regression tests (the rule cases and the sample files)."""

    pyshacl = "pyshacl"
    shifty = "shifty"


class Grader:
    def __init__(self, shapes: Graph, engine: Engine = Engine.shifty) -> None:
        self.shapes = name_rule_parts(shapes)
        self.engine = engine
        self.rules: dict[Node, Rule] = {}
        for shape, rule_id in self.shapes.subject_objects(HS.ruleId):
            zh, en = _messages(self.shapes, shape)
            severity = self.shapes.value(shape, SH.severity) or SH.Violation
            article = self.shapes.value(shape, HS.article) or Literal("")
            rule = Rule(str(rule_id), _local(severity), zh, en, str(article))
            self.rules[shape] = rule
            for predicate in (SH.property, SH.sparql):
                for part in self.shapes.objects(shape, predicate):
                    self.rules[part] = rule
        self._prepared = shifty.PreparedValidator(self.shapes) if engine is Engine.shifty else None

    @classmethod
    def from_directory(cls, directory: Path = SHAPES_DIR, engine: Engine = Engine.shifty) -> Grader:
        g = Graph()
        for name in RULE_FILES:
            g.parse(directory / name, format="turtle")
        return cls(g, engine)

    def _report(self, data: Graph) -> Graph:
        if self._prepared is not None:
            _, report, _ = self._prepared.validate(data, in_place=True)
            return report
        _, report, _ = validate(
            data,
            shacl_graph=self.shapes,
            advanced=True,
            inplace=True,
            inference="none",
            allow_warnings=True,
            meta_shacl=False,
        )
        return cast(Graph, report)

    def grade(self, data: Graph) -> list[Finding]:
        """Add grades to ``data`` in place; return every constraint result."""
        report = self._report(data)
        findings = []
        for result in report.subjects(RDF.type, SH.ValidationResult):
            focus = report.value(result, SH.focusNode)
            source = report.value(result, SH.sourceShape)
            rule = self.rules.get(source) if source is not None else None
            if focus is None or rule is None:
                continue
            detail = str(report.value(result, SH.resultMessage) or "")
            findings.append(Finding(focus, rule, detail))
        return findings

    @staticmethod
    def grade_of(data: Graph, field: URIRef) -> Grade | None:
        """The single grade rules gave ``field``, or None (R-GRADED reports why)."""
        categories = list(data.objects(field, HS.category))
        levels = list(data.objects(field, HS.level))
        tiers = list(data.objects(field, HS.protectionTier))
        rules = list(data.objects(field, HS.gradedBy))
        if len(categories) != 1 or len(levels) != 1 or len(tiers) != 1:
            return None
        level = levels[0]
        if not isinstance(level, Literal):
            return None
        return Grade(_local(categories[0]), int(level.toPython()), _local(tiers[0]),
                     str(rules[0]) if rules else "")  # fmt: skip
