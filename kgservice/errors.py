"""Typed domain errors. Each carries its HTTP status; one handler in ``app.py`` renders them.

Error bodies are ``{"error": <code>, "detail": <human text or field list>}``. Details are written
for the caller: they never contain stack traces, query text, or data from another institution.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel


class ErrorBody(BaseModel):
    error: str
    detail: str | list[dict[str, Any]]


class ShieldError(Exception):
    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def extra(self) -> dict[str, Any]:
        """More of the body, for errors that list what is wrong (e.g. rule violations)."""
        return {}


class BadRequest(ShieldError):
    status_code = 400
    code = "bad_request"


class NotAuthenticated(ShieldError):
    status_code = 401
    code = "not_authenticated"


class Forbidden(ShieldError):
    status_code = 403
    code = "forbidden"


class NotFound(ShieldError):
    status_code = 404
    code = "not_found"


class Conflict(ShieldError):
    status_code = 409
    code = "conflict"


class CreatedConcurrently(Conflict):
    """Another request created the same unique thing while this one was creating it."""

    code = "created_concurrently"


class Unprocessable(ShieldError):
    status_code = 422
    code = "unprocessable"


class GraphUnavailable(ShieldError):
    status_code = 503
    code = "graph_unavailable"


def responses(*errors: type[ShieldError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries for the errors an endpoint can return."""
    codes: dict[int, list[str]] = {}
    for err in errors:
        codes.setdefault(err.status_code, []).append(err.code)
    return {
        status: {"model": ErrorBody, "description": " or ".join(names)}
        for status, names in codes.items()
    }


AUTH_ERRORS = (NotAuthenticated, Forbidden, GraphUnavailable)
