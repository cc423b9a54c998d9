"""The one path every submission takes: read → normalise → RDF → grade and validate.

``check`` is pure (no storage): the service stores what it returns, `shield ingest check` prints
it, and the tests and benchmark run it directly.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ingest.errors import IngestError
from ingest.grading import Engine, Finding, Grade, Grader
from ingest.model import Extracted
from ingest.normalise import normalise
from ingest.ocr.engine import OcrEngine, RapidOcr
from ingest.rdf import FieldRef, build
from ingest.readers import fhir, json_v1, meter, note, scan

FORMATS = ("json", "fhir", "csv", "xlsx", "png", "jpeg", "pdf", "text")
CHUNK = 50  # records validated together: 50-250 measured the same, and small parts run in parallel
CONTENT_TYPES = {
    "application/json": "json",
    "application/fhir+json": "fhir",
    "text/csv": "csv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "image/png": "png",
    "image/jpeg": "jpeg",
    "application/pdf": "pdf",
    "text/plain": "text",
}


@dataclass(slots=True)
class CheckedField:
    ref: FieldRef
    grade: Grade | None
    findings: list[Finding] = field(default_factory=list)


@dataclass(slots=True)
class Checked:
    digest: str
    extracted: Extracted
    records: list[tuple[str, str]]  # (record id, IRI)
    fields: list[CheckedField]
    record_findings: list[Finding]

    @property
    def violations(self) -> list[tuple[str, Finding]]:
        """(location, finding) for every violation, fields first, in source order."""
        out = [
            (f.ref.datum.location, x)
            for f in self.fields
            for x in f.findings
            if x.rule.severity == "Violation"
        ]
        where = {
            iri: s.ref for (_, iri), s in zip(self.records, self.extracted.subjects, strict=True)
        }
        out += [
            (where.get(x.focus, x.focus), x)
            for x in self.record_findings
            if x.rule.severity == "Violation"
        ]
        return out


def detect_format(content_type: str | None, data: bytes) -> str:
    """The reader for a content type; JSON is told apart from FHIR by its content."""
    media = (content_type or "").split(";")[0].strip().lower()
    fmt = CONTENT_TYPES.get(media)
    if fmt is None:
        known = ", ".join(sorted(CONTENT_TYPES))
        raise IngestError("Content-Type", f"'{media or '(none)'}' is not accepted ({known})")
    if fmt == "json" and b'"resourceType"' in data[:4096]:
        return "fhir"
    return fmt


class Pipeline:
    """Readers and the grader, and two threads to validate a file's parts side by side.

    On shifty, which releases the GIL, parts of a file validate in parallel on two cores; the
    compiled checker (the default) takes a file whole.
    Splitting by record is exact because every rule concerns one field, its record, and the
    record's source and institution — each part carries all of those. A rule relating two
    records (say, a resident ID seen in only one record) would need the whole file at once.
    """

    def __init__(
        self,
        grader: Grader,
        mappings: list[meter.Mapping],
        workers: int = 2,
        ocr: OcrEngine | None = None,
    ) -> None:
        self.grader = grader
        self.mappings = mappings
        self.ocr = ocr or RapidOcr()  # loads its model on the first scan
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="shacl")

    def read(self, data: bytes, fmt: str, source: str) -> Extracted:
        if fmt == "json":
            return json_v1.read(data, source)
        if fmt == "fhir":
            return fhir.read(data, source)
        if fmt in ("csv", "xlsx"):
            return meter.read(data, source, fmt, self.mappings)
        if fmt in ("png", "jpeg", "pdf"):
            return scan.read(data, fmt, source, self.ocr)
        if fmt == "text":
            return note.read(data, source)
        raise IngestError(source, f"unknown format '{fmt}' (known: {', '.join(FORMATS)})")

    def check(self, data: bytes, fmt: str, source: str, institution: str) -> Checked:
        digest = hashlib.sha256(data).hexdigest()
        extracted = self.read(data, fmt, source)
        for subject in extracted.subjects:
            subject.data = [normalise(d) for d in subject.data]
        n = len(extracted.subjects)
        # The compiled checker holds the GIL, so parts would only add their overhead to it.
        size = CHUNK if self.grader.engine is not Engine.compiled else max(n, 1)
        parts = [build(extracted, institution, digest, i, i + size) for i in range(0, n, size)]
        graded = list(self._pool.map(self.grader.grade, [g for g, _, _ in parts]))
        grades: dict[str, Grade] = {}
        by_focus: dict[str, list[Finding]] = {}
        for g in graded:
            grades.update(g.grades)
            for finding in g.findings:
                by_focus.setdefault(finding.focus, []).append(finding)
        refs = [r for _, part_refs, _ in parts for r in part_refs]
        records = [r for _, _, part_records in parts for r in part_records]
        fields = [CheckedField(r, grades.get(r.iri), by_focus.pop(r.iri, [])) for r in refs]
        # Each part repeats the source and institution triples, so record-level findings about
        # them can come once per part: keep one of each.
        rest = list(
            {(f.focus, f.rule.id, f.detail): f for fs in by_focus.values() for f in fs}.values()
        )
        return Checked(digest, extracted, records, fields, rest)
