"""Errors that name where the input is wrong."""

from __future__ import annotations


class IngestError(Exception):
    """Input that cannot be read. ``location`` names the file, row, column or field."""

    def __init__(self, location: str, message: str) -> None:
        super().__init__(f"{location}: {message}")
        self.location = location
        self.message = message

    def __reduce__(self) -> tuple[type[IngestError], tuple[str, str]]:
        # Raised in the checking process and re-raised in the service: rebuilt from both parts.
        return type(self), (self.location, self.message)
