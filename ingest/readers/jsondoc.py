"""Decoding a submitted JSON document, with errors that name it."""

from __future__ import annotations

import json
from typing import Any

from ingest.errors import IngestError


def load(data: bytes, source: str) -> Any:
    """The document's JSON value. Nesting too deep for the decoder (a few kilobytes of
    brackets) is bad input like any other, not a crash of the check."""
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise IngestError(source, f"not UTF-8 JSON: {e}") from None
    except RecursionError:
        raise IngestError(source, "the JSON is nested too deeply") from None
