"""The grades read from shifty's inferred N-Triples by splitting lines match an rdflib parse of
the same text, on a real file's grading (and odd lines are skipped, not misread)."""

from __future__ import annotations

import hashlib
import json
import random

from rdflib import Graph, URIRef

from ingest.grading import _GRADE_PREDICATES, Grader, grade_values, grades_from
from ingest.normalise import normalise
from ingest.rdf import build
from ingest.readers import json_v1
from ingest.synthetic.samples import json_document


def inferred_of_sample() -> str:
    data = json.dumps(json_document(random.Random(5), 40)).encode()
    extracted = json_v1.read(data, "sample.json")
    for subject in extracted.subjects:
        subject.data = [normalise(d) for d in subject.data]
    nt, _, _ = build(extracted, "clinic-b", hashlib.sha256(data).hexdigest())
    grader = Grader.from_directory()
    assert grader._prepared is not None
    result = grader._prepared.validate_algebra(
        nt.ntriples().encode(), None, "ntriples", "data", None, True, "info", False, "ignore", True
    )
    return str(result._inferred_ntriples)


def test_split_parse_matches_rdflib_on_a_real_grading() -> None:
    text = inferred_of_sample()
    g = Graph().parse(data=text, format="nt")
    values: dict[str, dict[str, list[str]]] = {}
    for predicate, name in _GRADE_PREDICATES.items():
        for s, o in g.subject_objects(URIRef(predicate)):
            values.setdefault(str(s), {}).setdefault(name, []).append(str(o))
    expected = grades_from(values)
    assert len(expected) > 400  # 40 records of ~14 fields, every one graded
    assert grade_values(text) == expected


def test_lines_of_other_shapes_are_skipped() -> None:
    field = "<https://w3id.org/health-shield/id/field/f1>"
    ns = "https://w3id.org/health-shield/ns#"
    text = "\n".join(
        [
            f"{field} <{ns}category> <{ns}HealthStatus> .",
            f'{field} <{ns}level> "3"^^<http://www.w3.org/2001/XMLSchema#integer> .',
            f"{field} <{ns}protectionTier> <{ns}GeneralMedical> .",
            f'{field} <{ns}gradedBy> "G-OBSERVATION" .',
            f'{field} <{ns}note> "a literal with spaces and a <bracket>" .',  # another predicate
            "# a comment line",
            "",
            f"{field} <{ns}level>",  # truncated: no object
        ]
    )
    grades = grade_values(text)
    assert set(grades) == {"https://w3id.org/health-shield/id/field/f1"}
    grade = grades["https://w3id.org/health-shield/id/field/f1"]
    assert (grade.category, grade.level, grade.tier, grade.rule) == (
        "HealthStatus",
        3,
        "GeneralMedical",
        "G-OBSERVATION",
    )
