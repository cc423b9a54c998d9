"""`shield ocr FILE` and `shield identifiers FILE`: what the pipeline reads and finds, for data
stewards to check by hand. Nothing is stored."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ingest.errors import IngestError
from ingest.nlp.pipeline import find_identifiers
from ingest.ocr.engine import RapidOcr, read_pages
from ingest.ocr.layout import layout
from kgservice.cli.context import fail, out, print_json
from kgservice.cli.exit_codes import Exit

IMAGE_SUFFIXES = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".pdf": "pdf"}


class Output(enum.StrEnum):
    table = "table"
    json = "json"


FileArg = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]
FormatOpt = Annotated[Output, typer.Option("--format", help="table for people, json for tools")]


def _ocr(path: Path) -> list[dict[str, Any]]:
    media = IMAGE_SUFFIXES.get(path.suffix.lower())
    if media is None:
        fail(f"{path.name}: not an image or PDF ({', '.join(IMAGE_SUFFIXES)})", Exit.usage)
    try:
        pages = read_pages(path.read_bytes(), media, path.name, RapidOcr())
    except IngestError as e:
        fail(str(e), Exit.failure)
    return [
        {
            "page": p.number,
            "text": line.text,
            "confidence": round(line.confidence, 3),
            "box": [list(map(round, corner)) for corner in line.box],
        }
        for p in pages
        for line in p.lines
    ]


def ocr(file: FileArg, output: FormatOpt = Output.table) -> None:
    """Print the lines OCR reads in an image or PDF, with confidence and box corners (pixels)."""
    lines = _ocr(file)
    if output is Output.json:
        print_json(lines)
        return
    table = Table("page", "text", "confidence", "box (x0,y0 x1,y1)")
    for line in lines:
        (x0, y0), _, (x1, y1), _ = line["box"]
        table.add_row(
            str(line["page"]), line["text"], f"{line['confidence']:.3f}", f"{x0},{y0} {x1},{y1}"
        )
    out.print(table)


def _text_of(path: Path) -> str:
    media = IMAGE_SUFFIXES.get(path.suffix.lower())
    if media is not None:
        try:
            return layout(read_pages(path.read_bytes(), media, path.name, RapidOcr())).text
        except IngestError as e:
            fail(str(e), Exit.failure)
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        fail(
            f"{path.name}: not UTF-8 text (or an image: {', '.join(IMAGE_SUFFIXES)})", Exit.failure
        )


def identifiers(file: FileArg, output: FormatOpt = Output.json) -> None:
    """Print every identifier found in a UTF-8 text file or an image, with character offsets
    into the text (for an image: into the text OCR read, which `--format table` shows)."""
    text = _text_of(file)
    found = [
        {"start": s.start, "end": s.end, "type": s.type, "text": s.text}
        for s in find_identifiers(text)
    ]
    if output is Output.json:
        print_json(found)
        return
    table = Table("start", "end", "type", "text")
    for f in found:
        table.add_row(str(f["start"]), str(f["end"]), str(f["type"]), str(f["text"]))
    out.print(table)
