"""OCR behind one interface, and the pages of an image or PDF.

The engine is RapidOCR (``rapidocr-onnxruntime`` 1.4.4): its wheel carries the PP-OCRv4 Chinese
and English detection and recognition models, so nothing downloads at run time. The angle
classifier is off: on upright scans it once dropped a whole line and gained nothing. easyocr, named
in the design card, has no Chinese weights installable offline (README, "Dependencies left out").
"""

from __future__ import annotations

import io
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from PIL import Image, UnidentifiedImageError

from ingest.errors import IngestError

MEDIA = {"image/png": "png", "image/jpeg": "jpeg", "application/pdf": "pdf"}
PDF_DPI = 200  # enough for 10 pt text; more only costs time
MAX_PAGES = 20
MAX_PIXELS = 40_000_000  # ~A4 at 600 dpi; larger images are refused before decoding

Point = tuple[float, float]


@dataclass(frozen=True, slots=True)
class OcrLine:
    text: str
    confidence: float
    box: tuple[Point, Point, Point, Point]  # corners clockwise from top left, in pixels

    @property
    def bounds(self) -> tuple[int, int, int, int]:
        """x0, y0, x1, y1 of the box."""
        xs = [p[0] for p in self.box]
        ys = [p[1] for p in self.box]
        return round(min(xs)), round(min(ys)), round(max(xs)), round(max(ys))


@dataclass(frozen=True, slots=True)
class Page:
    number: int  # from 1
    width: int
    height: int
    lines: list[OcrLine]


class OcrEngine(Protocol):
    name: str

    def read(self, image: np.ndarray[Any, Any]) -> list[OcrLine]: ...


class _LazyEngine(ABC):
    """An engine whose model loads on first use (~1 s) and is shared by threads under a lock:
    one recognition at a time already uses both cores."""

    name = ""

    def __init__(self) -> None:
        self._engine: Any = None
        self._lock = threading.Lock()

    @abstractmethod
    def _load(self) -> Any:
        """The loaded model."""

    @abstractmethod
    def _recognise(self, engine: Any, image: np.ndarray[Any, Any]) -> Iterable[Any]:
        """(box corners, text, confidence) per line."""

    def read(self, image: np.ndarray[Any, Any]) -> list[OcrLine]:
        with self._lock:
            if self._engine is None:
                self._engine = self._load()
            found = list(self._recognise(self._engine, image))
        lines = []
        for box, text, confidence in found:
            corners = tuple((float(x), float(y)) for x, y in box)
            lines.append(OcrLine(str(text), float(confidence), corners))  # type: ignore[arg-type]
        return lines


class RapidOcr(_LazyEngine):
    """PP-OCRv4 on ONNX Runtime: the default engine."""

    name = "rapidocr-onnxruntime/PP-OCRv4"

    def _load(self) -> Any:
        from rapidocr_onnxruntime import RapidOCR  # 1 s; only when used

        return RapidOCR()

    def _recognise(self, engine: Any, image: np.ndarray[Any, Any]) -> Iterable[Any]:
        result, _ = engine(image, use_cls=False)
        return result or []


class RapidOcrV3(_LazyEngine):
    """``rapidocr`` 3.x (PP-OCRv6 small models, also inside its wheel): optional, for comparison
    (``bench/ocr.py``). Not the default: see docs/ocr-nlp.md for the measurements."""

    name = "rapidocr-3/PP-OCRv6"

    def _load(self) -> Any:
        from rapidocr import RapidOCR  # optional package, loaded when used

        return RapidOCR(params={"Global.use_cls": False})

    def _recognise(self, engine: Any, image: np.ndarray[Any, Any]) -> Iterable[Any]:
        result = engine(image, use_cls=False)
        if result.boxes is None:
            return []
        return zip(result.boxes, result.txts, result.scores, strict=True)


def _pixels(image: Image.Image, where: str) -> np.ndarray[Any, Any]:
    if image.width * image.height > MAX_PIXELS:
        raise IngestError(where, f"{image.width}×{image.height} pixels: too large to read")
    return np.asarray(image.convert("RGB"))[:, :, ::-1].copy()  # BGR, as OpenCV expects


def images(data: bytes, media: str, source: str) -> list[np.ndarray[Any, Any]]:
    """The pages of a PNG, JPEG or PDF as BGR arrays."""
    if media == "pdf":
        return _pdf_pages(data, source)
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            return [_pixels(image, source)]
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as e:
        raise IngestError(source, f"not a readable {media.upper()} image: {e}") from None


def _pdf_pages(data: bytes, source: str) -> list[np.ndarray[Any, Any]]:
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as e:
        raise IngestError(source, f"not a readable PDF: {e}") from None
    try:
        if len(document) > MAX_PAGES:
            raise IngestError(source, f"{len(document)} pages; at most {MAX_PAGES}: split it")
        out = []
        for i in range(len(document)):
            bitmap = document[i].render(scale=PDF_DPI / 72)
            out.append(_pixels(bitmap.to_pil(), f"{source} page {i + 1}"))
        return out
    finally:
        document.close()


def read_pages(data: bytes, media: str, source: str, engine: OcrEngine) -> list[Page]:
    out = []
    for number, pixels in enumerate(images(data, media, source), start=1):
        height, width = pixels.shape[:2]
        out.append(Page(number, width, height, engine.read(pixels)))
    return out
