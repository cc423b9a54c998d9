"""The one mapping from extracted data to RDF in ``ontology/`` terms, written as N-Triples.

IRIs are deterministic: a record is named by its institution, the SHA-256 of the source bytes and
its position, so the same file always yields the same graph (idempotent resubmission) and a
field's IRI says where it lives. Values are typed literals (xsd:decimal for measurements).

The graph is produced as N-Triples text rather than an rdflib graph: the SHACL engine reads text,
and building then serialising 100k rdflib triples cost more than validating them. ``to_graph``
gives the rdflib view where one is wanted (the reference engine, tests).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from decimal import Decimal

from rdflib import Graph, Namespace

from ingest.model import Datum, Extracted, Value

HS_NS = "https://w3id.org/health-shield/ns#"
HS = Namespace(HS_NS)
ID = "https://w3id.org/health-shield/id/"
RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
DERIVED_FROM = "<http://www.w3.org/ns/prov#wasDerivedFrom>"
XSD = "http://www.w3.org/2001/XMLSchema#"


@dataclass(frozen=True, slots=True)
class FieldRef:
    iri: str
    record_id: str
    field_id: str
    datum: Datum


def record_id(institution: str, digest: str, index: int) -> str:
    return f"rec_{institution}_{digest[:16]}_{index}"


def _escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
            .replace("\r", "\\r"))  # fmt: skip


def literal(value: Value) -> str:
    """An N-Triples literal for a datum's value."""
    if isinstance(value, bool):
        return f'"{str(value).lower()}"^^<{XSD}boolean>'
    if isinstance(value, Decimal):
        return f'"{value}"^^<{XSD}decimal>'
    if isinstance(value, int):
        return f'"{value}"^^<{XSD}integer>'
    return f'"{_escape(str(value))}"'


def _hs(name: str) -> str:
    return f"<{HS_NS}{name}>"


Built = tuple[str, list[FieldRef], list[tuple[str, str]]]


def build(
    extracted: Extracted, institution: str, digest: str, start: int = 0, stop: int | None = None
) -> Built:
    """N-Triples of a submission's records ``start``..``stop`` (default: all), with their fields
    and records (id, IRI) in order. Record ids count from the start of the file, so a part of a
    file names its records exactly as the whole does."""
    out: list[str] = []
    add = out.append
    source = f"<{ID}source/{digest}>"
    inst = f"<{ID}institution/{institution}>"
    add(f"{source} {RDF_TYPE} {_hs('SourceDocument')} .")
    add(f'{source} {_hs("sha256")} "{digest}" .')
    add(f"{inst} {RDF_TYPE} {_hs('Institution')} .")
    in_record, value, location, confidence = (_hs("inRecord"), _hs("value"),
                                              _hs("sourceLocation"), _hs("confidence"))  # fmt: skip
    unit, code, time = _hs("unit"), _hs("code"), _hs("effectiveTime")
    fields: list[FieldRef] = []
    records: list[tuple[str, str]] = []
    for i, subject in enumerate(extracted.subjects[start:stop], start=start):
        rid = record_id(institution, digest, i)
        rec_iri = f"{ID}record/{rid}"
        rec = f"<{rec_iri}>"
        records.append((rid, rec_iri))
        add(f"{rec} {RDF_TYPE} {_hs(subject.kind.value)} .")
        add(f"{rec} {DERIVED_FROM} {source} .")
        add(f"{rec} {_hs('heldBy')} {inst} .")
        for j, d in enumerate(subject.data):
            fid = f"{rid}_f{j}"
            f_iri = f"{ID}field/{fid}"
            f = f"<{f_iri}>"
            fields.append(FieldRef(f_iri, rid, fid, d))
            add(f"{f} {RDF_TYPE} {_hs(d.kind)} .")
            add(f"{f} {in_record} {rec} .")
            add(f"{f} {value} {literal(d.value)} .")
            add(f'{f} {location} "{_escape(d.location)}" .')
            add(f'{f} {confidence} "{Decimal(str(d.confidence))}"^^<{XSD}decimal> .')
            if d.unit is not None:
                add(f'{f} {unit} "{_escape(d.unit)}" .')
            if d.code is not None:
                add(f'{f} {code} "{_escape(d.code)}" .')
            if d.time is not None:
                t = d.time if d.time.tzinfo else d.time.replace(tzinfo=UTC)
                add(f'{f} {time} "{t.isoformat()}"^^<{XSD}dateTime> .')
    return "\n".join(out) + "\n", fields, records


def to_graph(ntriples: str) -> Graph:
    return Graph().parse(data=ntriples, format="nt")
