"""The one mapping from extracted data to RDF in ``ontology/`` terms.

IRIs are deterministic: a record is named by its institution, the SHA-256 of the source bytes and
its position, so the same file always yields the same graph (idempotent resubmission) and a
field's IRI says where it lives. Values are typed literals (xsd:decimal for measurements).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from decimal import Decimal

from rdflib import RDF, XSD, Graph, Literal, Namespace, URIRef
from rdflib.namespace import PROV

from ingest.model import Datum, Extracted, Value

HS = Namespace("https://w3id.org/health-shield/ns#")
ID = Namespace("https://w3id.org/health-shield/id/")


@dataclass(frozen=True, slots=True)
class FieldRef:
    iri: URIRef
    record_id: str
    field_id: str
    datum: Datum


def record_id(institution: str, digest: str, index: int) -> str:
    return f"rec_{institution}_{digest[:16]}_{index}"


def literal(value: Value) -> Literal:
    if isinstance(value, Decimal):
        return Literal(value, datatype=XSD.decimal)
    if isinstance(value, bool):
        return Literal(value)
    if isinstance(value, int):
        return Literal(value, datatype=XSD.integer)
    return Literal(value)


def build(
    extracted: Extracted, institution: str, digest: str
) -> tuple[Graph, list[FieldRef], list[tuple[str, URIRef]]]:
    """The RDF graph of one submission, its fields, and its records (id, IRI) in order."""
    g = Graph()
    g.bind("hs", HS)
    source = ID[f"source/{digest}"]
    inst = ID[f"institution/{institution}"]
    g.add((source, RDF.type, HS.SourceDocument))
    g.add((source, HS.sha256, Literal(digest)))
    g.add((inst, RDF.type, HS.Institution))
    fields: list[FieldRef] = []
    records: list[tuple[str, URIRef]] = []
    for i, subject in enumerate(extracted.subjects):
        rid = record_id(institution, digest, i)
        rec = ID[f"record/{rid}"]
        records.append((rid, rec))
        g.add((rec, RDF.type, HS[subject.kind.value]))
        g.add((rec, PROV.wasDerivedFrom, source))
        g.add((rec, HS.heldBy, inst))
        for j, datum in enumerate(subject.data):
            fid = f"{rid}_f{j}"
            f = ID[f"field/{fid}"]
            fields.append(FieldRef(f, rid, fid, datum))
            g.add((f, RDF.type, HS[datum.kind]))
            g.add((f, HS.inRecord, rec))
            g.add((f, HS.value, literal(datum.value)))
            g.add((f, HS.sourceLocation, Literal(datum.location)))
            g.add((f, HS.confidence, Literal(Decimal(str(datum.confidence)), datatype=XSD.decimal)))
            if datum.unit is not None:
                g.add((f, HS.unit, Literal(datum.unit)))
            if datum.code is not None:
                g.add((f, HS.code, Literal(datum.code)))
            if datum.time is not None:
                t = datum.time if datum.time.tzinfo else datum.time.replace(tzinfo=UTC)
                g.add((f, HS.effectiveTime, Literal(t, datatype=XSD.dateTime)))
    return g, fields, records
