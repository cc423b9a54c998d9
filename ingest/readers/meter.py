"""Glucose-meter exports (CSV or XLSX). Each brand's layout is a TOML mapping in
``ingest/meters/``: column names, encoding, delimiter, date format, unit, and the words it uses
for the measuring period. Adding a brand is adding a file; the reader picks the mapping whose
columns the file has.
"""

from __future__ import annotations

import csv
import io
import tomllib
import zipfile
from dataclasses import dataclass
from datetime import datetime
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

from openpyxl import load_workbook

from ingest.errors import IngestError
from ingest.model import Datum, Extracted, Subject, SubjectKind

MAPPINGS_DIR = files("ingest") / "meters"
PERIOD_KINDS = {
    "fasting": "FastingGlucose",
    "postprandial": "PostprandialGlucose",
    "random": "RandomGlucose",
}


@dataclass(frozen=True, slots=True)
class Mapping:
    id: str
    brand: str
    formats: tuple[str, ...]  # "csv", "xlsx"
    encoding: str
    delimiter: str
    time_formats: tuple[str, ...]
    columns: dict[str, str]  # our name → the brand's header
    unit: str | None  # fixed unit, when the file has no unit column
    periods: dict[str, str]  # the brand's word → fasting / postprandial / random

    @classmethod
    def load(cls, path: Traversable) -> Mapping:
        data = tomllib.loads(path.read_text("utf-8"))
        return cls(
            id=data["id"],
            brand=data["brand"],
            formats=tuple(data["formats"]),
            encoding=data.get("encoding", "utf-8-sig"),
            delimiter=data.get("delimiter", ","),
            time_formats=tuple(data["time_formats"]),
            columns=dict(data["columns"]),
            unit=data.get("unit"),
            periods={str(k): str(v) for k, v in data["periods"].items()},
        )

    @property
    def required(self) -> set[str]:
        return {self.columns[k] for k in ("patient", "time", "value")}


def load_mappings(directory: Traversable = MAPPINGS_DIR) -> list[Mapping]:
    found = (p for p in directory.iterdir() if p.is_file() and p.name.endswith(".toml"))
    return [Mapping.load(p) for p in sorted(found, key=lambda p: p.name)]


def _csv_rows(data: bytes, mapping: Mapping) -> list[list[str]] | None:
    try:
        text = data.decode(mapping.encoding)
    except UnicodeDecodeError:
        return None
    return [row for row in csv.reader(io.StringIO(text), delimiter=mapping.delimiter) if row]


def _xlsx_rows(data: bytes, source: str) -> list[list[str]]:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as e:
        raise IngestError(source, f"not a readable XLSX workbook: {e}") from None
    sheet = book.worksheets[0]
    rows = []
    for row in sheet.iter_rows(values_only=True):
        cells = [
            ""
            if v is None
            else (v.strftime("%Y-%m-%d %H:%M:%S") if isinstance(v, datetime) else str(v))
            for v in row
        ]
        if any(c.strip() for c in cells):
            rows.append(cells)
    book.close()
    return rows


def read(data: bytes, source: str, fmt: str, mappings: list[Mapping]) -> Extracted:
    """Read a meter export in ``fmt`` ("csv" or "xlsx") with the mapping its header matches."""
    candidates = [m for m in mappings if fmt in m.formats]
    xlsx_rows = _xlsx_rows(data, source) if fmt == "xlsx" else None
    best: tuple[int, Mapping, list[str]] | None = None
    for mapping in candidates:
        rows = xlsx_rows if xlsx_rows is not None else _csv_rows(data, mapping)
        if not rows:
            continue
        header = [h.strip() for h in rows[0]]
        missing = sorted(mapping.required - set(header))
        if not missing:
            return _extract(rows, header, mapping, source)
        if best is None or len(missing) < best[0]:
            best = (len(missing), mapping, missing)
    if best is None:
        raise IngestError(source, f"empty or undecodable {fmt.upper()} file")
    _, mapping, missing = best
    raise IngestError(
        f"{source} header",
        f"no meter mapping matches; closest is {mapping.brand} ({mapping.id}), missing columns: "
        + ", ".join(repr(m) for m in missing),
    )


def _parse_time(text: str, mapping: Mapping, at: str) -> datetime:
    for fmt in mapping.time_formats:
        try:
            return datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
    raise IngestError(at, f"time '{text}' does not match {' or '.join(mapping.time_formats)}")


def _extract(rows: list[list[str]], header: list[str], m: Mapping, source: str) -> Extracted:
    col = {name: header.index(h) for name, h in m.columns.items() if h in header}
    subjects: dict[str, Subject] = {}
    for n, row in enumerate(rows[1:], start=2):

        def cell(name: str, row: list[str] = row) -> str:
            i = col.get(name)
            return row[i].strip() if i is not None and i < len(row) else ""

        def at(name: str, n: int = n) -> str:
            return f"{source} row {n}, column '{m.columns[name]}'"

        patient = cell("patient")
        if not patient:
            raise IngestError(at("patient"), "empty patient id")
        subject = subjects.get(patient)
        if subject is None:
            subject = Subject(SubjectKind.patient, f"patient {patient}")
            subjects[patient] = subject
            subject.data.append(Datum("DeviceUserId", f"{m.id}:{patient}", at("patient")))
            for name, kind in (("name", "PersonName"), ("phone", "PhoneNumber")):
                if cell(name):
                    subject.data.append(Datum(kind, cell(name), at(name)))
        period = cell("period") if "period" in col else "random"
        word = m.periods.get(period, period if period in PERIOD_KINDS else "")
        if word not in PERIOD_KINDS:
            known = ", ".join(repr(k) for k in m.periods)
            raise IngestError(at("period"), f"unknown period '{period}' (known: {known})")
        unit = cell("unit") if "unit" in col else m.unit
        value: Any = cell("value")
        if not value:
            raise IngestError(at("value"), "empty glucose value")
        subject.data.append(
            Datum(
                PERIOD_KINDS[word],
                value,
                at("value"),
                unit,
                _parse_time(cell("time"), m, at("time")),
            )
        )
    if not subjects:
        raise IngestError(source, "the file has a header but no readings")
    return Extracted(f"meter/{m.id}", "table-mapping", list(subjects.values()))
