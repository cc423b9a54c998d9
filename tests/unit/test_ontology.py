"""The ontology loads, is labelled in both languages, and is consistent (HermiT)."""

from __future__ import annotations

import tempfile
from importlib.resources import files
from pathlib import Path

import pytest
from owlready2 import OwlReadyInconsistentOntologyError, World, sync_reasoner
from rdflib import OWL, RDF, RDFS, Graph, Literal, URIRef

from ingest.rdf import HS

ONTOLOGY = files("ontology") / "health.ttl"  # as the installed package reads it


def _graph() -> Graph:
    return Graph().parse(data=ONTOLOGY.read_text("utf-8"), format="turtle")


def test_every_class_has_zh_and_en_labels() -> None:
    g = _graph()
    classes = [c for c in g.subjects(RDF.type, OWL.Class) if isinstance(c, URIRef)]
    assert len(classes) > 30
    for c in classes:
        langs = {lab.language for lab in g.objects(c, RDFS.label) if isinstance(lab, Literal)}
        assert {"zh", "en"} <= langs, f"{c} needs rdfs:label in zh and en"


def test_every_field_kind_the_rules_and_readers_use_is_defined() -> None:
    g = _graph()
    from ingest.readers.fhir import LOINC_KINDS
    from ingest.readers.json_v1 import OBSERVATION_KINDS

    used = (
        set(LOINC_KINDS.values())
        | set(OBSERVATION_KINDS.values())
        | {
            "PersonName",
            "ResidentId",
            "PhoneNumber",
            "Address",
            "BirthDate",
            "Sex",
            "MedicalRecordNumber",
            "DeviceUserId",
            "InsuranceNumber",
            "Condition",
            "Prescription",
            "MedicationStatement",
            "EncounterDate",
            "ConsentStatement",
        }
    )
    for kind in used:
        assert (HS[kind], RDF.type, OWL.Class) in g, kind
        assert (HS[kind], RDFS.subClassOf, None) in g, kind


def _reason(g: Graph) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "ontology.owl"
        g.serialize(path, format="xml")  # owlready2 cannot read Turtle
        world = World()
        onto = world.get_ontology(path.as_uri()).load()
        with onto:
            sync_reasoner(world, infer_property_values=False, debug=0)


def test_hermit_finds_the_ontology_consistent() -> None:
    _reason(_graph())


def test_hermit_catches_an_inconsistent_use() -> None:
    """A thing that is both a field and a record contradicts the disjointness axiom."""
    g = _graph()
    bad = URIRef("https://w3id.org/health-shield/id/bad")
    g.add((bad, RDF.type, HS.FastingGlucose))
    g.add((bad, RDF.type, HS.PatientRecord))
    with pytest.raises(OwlReadyInconsistentOntologyError):
        _reason(g)
