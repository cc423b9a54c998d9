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

from ingest.fastshacl.terms import RDF_TYPE, STRING, XSD, Data, Lit
from ingest.model import Datum, Extracted, Value

HS_NS = "https://w3id.org/health-shield/ns#"
HS = Namespace(HS_NS)
ID = "https://w3id.org/health-shield/id/"
DERIVED_FROM = "http://www.w3.org/ns/prov#wasDerivedFrom"


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
    in_record, value, location = f"{HS_NS}inRecord", f"{HS_NS}value", f"{HS_NS}sourceLocation"
    confidence, unit, code = f"{HS_NS}confidence", f"{HS_NS}unit", f"{HS_NS}code"
    time, held_by = f"{HS_NS}effectiveTime", f"{HS_NS}heldBy"
    literals: dict[object, Lit] = {}  # units and confidences repeat: one Lit each
    fields: list[FieldRef] = []
    records: list[tuple[str, str]] = []
    for i, subject in enumerate(extracted.subjects[start:stop], start=start):
        rid = record_id(institution, digest, i)
        rec = f"{ID}record/{rid}"
        records.append((rid, rec))
        add(rec, RDF_TYPE, f"{HS_NS}{subject.kind.value}")
        add(rec, DERIVED_FROM, source)
        add(rec, held_by, inst)
        for j, d in enumerate(subject.data):
            fid = f"{rid}_f{j}"
            f = f"{ID}field/{fid}"
            fields.append(FieldRef(f, rid, fid, d))
            add(f, RDF_TYPE, f"{HS_NS}{d.kind}")
            add(f, in_record, rec)
            add(f, value, _lit(d.value))
            add(f, location, Lit(d.location, STRING))
            c = literals.get(d.confidence)
            if c is None:
                c = literals[d.confidence] = Lit(str(Decimal(str(d.confidence))), f"{XSD}decimal")
            add(f, confidence, c)
            if d.unit is not None:
                u = literals.get(d.unit)
                if u is None:
                    u = literals[d.unit] = Lit(d.unit, STRING)
                add(f, unit, u)
            if d.code is not None:
                add(f, code, Lit(d.code, STRING))
            if d.time is not None:
                t = d.time if d.time.tzinfo else d.time.replace(tzinfo=UTC)
                add(f, time, Lit(t.isoformat(), f"{XSD}dateTime"))
    return graph, fields, records


def to_graph(ntriples: str) -> Graph:
    return Graph().parse(data=ntriples, format="nt")
