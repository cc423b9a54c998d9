"""From OCR boxes to text the recognisers read, with every character traced to its box.

Boxes are grouped into visual rows (by vertical overlap) and read left to right. A table of
readings — a header row naming at least two measurements, then rows starting with a date — is
rewritten row by row as "date label value unit ..." (until a "label: value" row ends it; a
seal's stray characters between rows do not) so the same recognisers that read notes read
it, each piece still pointing at its own cell: the value's box and confidence are the value cell's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ingest.nlp.clinical import vocabulary
from ingest.nlp.text import fold
from ingest.ocr.engine import OcrLine, Page

_DATE_CELL = re.compile(r"^\s*\d{4}\s*[-年/.]\s*\d{1,2}\s*[-月/.]\s*\d{1,2}\s*日?\s*$")
_HEADER_UNIT = re.compile(r"^(?P<label>[^(（]+?)\s*[(（](?P<unit>[^)）]+)[)）]\s*$")


@dataclass(frozen=True, slots=True)
class Piece:
    start: int
    end: int
    page: int
    row: int
    bounds: tuple[int, int, int, int]
    confidence: float


@dataclass(slots=True)
class Layout:
    text: str = ""
    pieces: list[Piece] = field(default_factory=list)

    def add(self, text: str, page: int, row: int, line: OcrLine) -> None:
        start = len(self.text)
        self.text += text
        self.pieces.append(Piece(start, len(self.text), page, row, line.bounds, line.confidence))

    def gap(self, text: str) -> None:
        self.text += text

    def locate(self, start: int, end: int) -> tuple[str, float]:
        """Where characters ``start:end`` were read, and the lowest OCR confidence among them."""
        hit = [p for p in self.pieces if p.start < end and start < p.end]
        if not hit:
            return "(no box)", 0.0
        first = hit[0]
        same_page = [p for p in hit if p.page == first.page]
        x0 = min(p.bounds[0] for p in same_page)
        y0 = min(p.bounds[1] for p in same_page)
        x1 = max(p.bounds[2] for p in same_page)
        y1 = max(p.bounds[3] for p in same_page)
        rows = sorted({p.row for p in same_page})
        row_text = f"row {rows[0]}" if len(rows) == 1 else f"rows {rows[0]}-{rows[-1]}"
        where = f"page {first.page}, {row_text}, box [{x0},{y0},{x1},{y1}]"
        return where, round(min(p.confidence for p in hit), 3)


def rows(lines: list[OcrLine]) -> list[list[OcrLine]]:
    """Boxes grouped into visual rows, top to bottom, each left to right."""
    out: list[list[OcrLine]] = []
    centre = 0.0
    height = 0.0
    for line in sorted(lines, key=lambda x: (x.bounds[1] + x.bounds[3]) / 2):
        _, y0, _, y1 = line.bounds
        mid = (y0 + y1) / 2
        if out and abs(mid - centre) <= max(height, y1 - y0) / 2:
            out[-1].append(line)
        else:
            out.append([line])
            centre, height = mid, float(y1 - y0)
    return [sorted(r, key=lambda x: x.bounds[0]) for r in out]


def _header(cells: list[OcrLine]) -> list[tuple[str, str | None]] | None:
    """(label, unit) per cell if this row heads a table of readings."""
    labels = {k.lower() for k in vocabulary().measurements} | {"血压"}
    out: list[tuple[str, str | None]] = []
    readings = 0
    for cell in cells:
        text = fold(cell.text).strip()
        m = _HEADER_UNIT.match(text)
        label, unit = (m.group("label").strip(), m.group("unit").strip()) if m else (text, None)
        readings += label.lower() in labels
        out.append((label, unit))
    return out if readings >= 2 else None


def _column(cell: OcrLine, header: list[OcrLine]) -> int:
    mid = (cell.bounds[0] + cell.bounds[2]) / 2
    return min(
        range(len(header)), key=lambda i: abs((header[i].bounds[0] + header[i].bounds[2]) / 2 - mid)
    )


def layout(pages: list[Page]) -> Layout:
    out = Layout()
    for page in pages:
        header: list[OcrLine] | None = None
        labels: list[tuple[str, str | None]] = []
        for number, cells in enumerate(rows(page.lines), start=1):
            if header is not None and _DATE_CELL.match(fold(cells[0].text)):
                for cell in cells:
                    i = _column(cell, header)
                    label, unit = labels[i]
                    if _DATE_CELL.match(fold(cell.text)):
                        out.add(cell.text, page.number, number, cell)
                    else:
                        out.add(label, page.number, number, header[i])
                        out.gap(" ")
                        out.add(cell.text, page.number, number, cell)
                        if unit:
                            out.add(" " + unit, page.number, number, header[i])
                    out.gap("  ")
                out.gap("\n")
                continue
            found = _header(cells)
            if found is not None:
                header, labels = cells, found
            elif any(":" in fold(c.text) for c in cells):
                header, labels = None, []  # a "label: value" row: the table has ended
            # Anything else (a seal's characters, a stray mark) leaves the table open.
            for cell in cells:
                out.add(cell.text, page.number, number, cell)
                out.gap("  ")
            out.gap("\n")
    return out
