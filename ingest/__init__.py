"""Record ingest pipeline: readers (FHIR, tables, OCR) → extraction → normalisation → RDF.

The readers arrive with the ontology/ingest issue; this package exists now so the layout and
packaging are settled before the first reader lands."""
