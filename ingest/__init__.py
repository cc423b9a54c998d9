"""Record ingest: readers (JSON, FHIR, meter tables) → normalisation → RDF → grading and
validation by the SHACL rules in ``shapes/``. The service protects and stores the result."""
