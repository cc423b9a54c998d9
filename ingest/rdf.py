"""The one mapping from extracted data to RDF in ``ontology/`` terms.

IRIs are deterministic: a record is named by its institution, the SHA-256 of the source bytes and
its position, so the same file always yields the same graph (idempotent resubmission) and a
field's IRI says where it lives. Values are typed literals (xsd:decimal for measurements).

The graph is produced as the compiled checker's own index (``ingest.fastshacl.terms.Data``)
rather than an rdflib graph: building then serialising 100k rdflib triples cost more than
validating them. ``Data.ntriples`` gives the text the other engines read, and ``to_graph`` the
rdflib view where one is wanted (the reference engine, tests).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from decimal import Decimal

from rdflib import Graph, Namespace

from ingest.fastshacl.terms import RDF_TYPE, STRING, XSD, Data, Lit, Node
from ingest.model import Datum, Extracted, Value

HS_NS = "https://w3id.org/health-shield/ns#"
HS = Namespace(HS_NS)
ID = "https://w3id.org/health-shield/id/"
DERIVED_FROM = "http://www.w3.org/ns/prov#wasDerivedFrom"
HELD_BY, IN_RECORD, VALUE = f"{HS_NS}heldBy", f"{HS_NS}inRecord", f"{HS_NS}value"
LOCATION, CONFIDENCE = f"{HS_NS}sourceLocation", f"{HS_NS}confidence"
UNIT, CODE, TIME = f"{HS_NS}unit", f"{HS_NS}code", f"{HS_NS}effectiveTime"


@dataclass(frozen=True, slots=True)
class FieldRef:
    iri: str
    record_id: str
    field_id: str
    datum: Datum


def record_id(institution: str, digest: str, index: int) -> str:
    return f"rec_{institution}_{digest[:16]}_{index}"


Built = tuple[Data, list[FieldRef], list[tuple[str, str]]]


def _lit(value: Value) -> Lit:
    if isinstance(value, bool):
        return Lit(str(value).lower(), f"{XSD}boolean")
    if isinstance(value, Decimal):
        return Lit(str(value), f"{XSD}decimal")
    if isinstance(value, int):
        return Lit(str(value), f"{XSD}integer")
    return Lit(str(value), STRING)


def build(
    extracted: Extracted, institution: str, digest: str, start: int = 0, stop: int | None = None
) -> Built:
    """The graph of a submission's records ``start``..``stop`` (default: all), with their fields
    and records (id, IRI) in order. Record ids count from the start of the file, so a part of a
    file names its records exactly as the whole does.

    The graph is built as the compiled checker's index directly (``Data.ntriples`` gives the
    text other engines read): parsing text it had just written cost more than checking it."""
    graph = Data()
    add = graph.add
    source = f"{ID}source/{digest}"
    inst = f"{ID}institution/{institution}"
    add(source, RDF_TYPE, f"{HS_NS}SourceDocument")
    add(source, f"{HS_NS}sha256", Lit(digest, STRING))
    add(inst, RDF_TYPE, f"{HS_NS}Institution")
    # Records and fields are written into the index directly, a dictionary per subject (each
    # predicate once, no repeated triple: as ``Data.add`` would make them, at a third of the cost).
    out, by_class = graph.out, graph.by_class
    subjects = graph.subjects_of
    typed, derived, held = (subjects.setdefault(p, []) for p in (RDF_TYPE, DERIVED_FROM, HELD_BY))
    in_rec, valued, located, confident, with_unit, coded, timed = (
        subjects.setdefault(p, [])
        for p in (IN_RECORD, VALUE, LOCATION, CONFIDENCE, UNIT, CODE, TIME)
    )
    literals: dict[object, Lit] = {}  # units and confidences repeat: one Lit each
    fields: list[FieldRef] = []
    records: list[tuple[str, str]] = []
    for i, subject in enumerate(extracted.subjects[start:stop], start=start):
        rid = record_id(institution, digest, i)
        rec = f"{ID}record/{rid}"
        records.append((rid, rec))
        kind = f"{HS_NS}{subject.kind.value}"
        out[rec] = {RDF_TYPE: [kind], DERIVED_FROM: [source], HELD_BY: [inst]}
        by_class.setdefault(kind, []).append(rec)
        typed.append(rec)
        derived.append(rec)
        held.append(rec)
        for j, d in enumerate(subject.data):
            fid = f"{rid}_f{j}"
            f = f"{ID}field/{fid}"
            fields.append(FieldRef(f, rid, fid, d))
            cls = f"{HS_NS}{d.kind}"
            c = literals.get(d.confidence)
            if c is None:
                c = literals[d.confidence] = Lit(str(Decimal(str(d.confidence))), f"{XSD}decimal")
            props: dict[str, list[Node]] = {
                RDF_TYPE: [cls],
                IN_RECORD: [rec],
                VALUE: [_lit(d.value)],
                LOCATION: [Lit(d.location, STRING)],
                CONFIDENCE: [c],
            }
            typed.append(f)
            in_rec.append(f)
            valued.append(f)
            located.append(f)
            confident.append(f)
            if d.unit is not None:
                u = literals.get(d.unit)
                if u is None:
                    u = literals[d.unit] = Lit(d.unit, STRING)
                props[UNIT] = [u]
                with_unit.append(f)
            if d.code is not None:
                props[CODE] = [Lit(d.code, STRING)]
                coded.append(f)
            if d.time is not None:
                t = d.time if d.time.tzinfo else d.time.replace(tzinfo=UTC)
                props[TIME] = [Lit(t.isoformat(), f"{XSD}dateTime")]
                timed.append(f)
            out[f] = props
            by_class.setdefault(cls, []).append(f)
    for p in [p for p, v in subjects.items() if not v]:
        del subjects[p]  # a predicate no subject has is absent, as ``Data.add`` leaves it
    return graph, fields, records


def to_graph(ntriples: str) -> Graph:
    return Graph().parse(data=ntriples, format="nt")
