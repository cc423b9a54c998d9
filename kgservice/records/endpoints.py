"""``POST /v1/records`` (institution systems, own institution) and ``GET /v1/records/{id}``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response, status

from ingest.errors import IngestError
from ingest.pipeline import detect_format
from kgservice.auth.access import Allow
from kgservice.auth.models import Principal
from kgservice.auth.roles import Role
from kgservice.auth.scope import bound_institution
from kgservice.deps import GraphDep, LedgerDep, RuntimeDep
from kgservice.errors import AUTH_ERRORS, BadRequest, ErrorBody, NotFound, responses
from kgservice.ledger.canonical import utc_now
from kgservice.records import service
from kgservice.records.checking import CheckerUnavailable
from kgservice.records.schemas import RecordOut, RejectedSubmission, SubmissionReceipt

router = APIRouter(prefix="/v1/records", tags=["records"])


class UnsupportedMedia(BadRequest):
    status_code = 415
    code = "unsupported_media_type"


class Unreadable(BadRequest):
    code = "unreadable_input"


class TooManyRecords(BadRequest):
    status_code = 413
    code = "too_many_records"


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=SubmissionReceipt,
    responses={
        **responses(*AUTH_ERRORS, Unreadable, UnsupportedMedia, TooManyRecords, CheckerUnavailable),
        200: {"model": SubmissionReceipt, "description": "resubmission: the original receipt"},
        413: {"model": ErrorBody, "description": "payload_too_large"},
        422: {"model": RejectedSubmission, "description": "record rules violated"},
    },
)
async def submit(
    request: Request,
    principal: Annotated[Principal, Depends(Allow(Role.institution_system))],
    runtime: RuntimeDep,
    graph: GraphDep,
    ledger: LedgerDep,
    content_type: Annotated[str | None, Header()] = None,
    x_source_name: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    """Submit one file (JSON, FHIR Bundle, meter CSV or XLSX) for the caller's institution.

    It is read, normalised, graded and validated; if any rule is violated nothing is stored and
    the 422 lists every violation with its place in the file. Otherwise records, graded fields,
    provenance, the contribution and a ledger entry are stored in one transaction."""
    institution = bound_institution(principal)
    data = await request.body()
    name = x_source_name or "upload"
    if not data:
        raise Unreadable(f"{name}: the request body is empty")
    try:
        fmt = detect_format(content_type, data)
    except IngestError as e:
        raise UnsupportedMedia(str(e)) from None
    try:
        prepared = await runtime.checker.prepare(
            data, fmt, name, institution, runtime.protector, utc_now()
        )
    except IngestError as e:
        raise Unreadable(str(e)) from None
    limit = runtime.settings.api.max_records_per_submission
    if prepared.count > limit:
        raise TooManyRecords(
            f"{name}: {prepared.count} records; at most {limit} per submission: split it"
        )
    if prepared.violations:
        raise service.RejectedRecords(prepared.violations)
    stored = await graph.write(
        service.submit, ledger, principal, institution, prepared, fmt, name, len(data)
    )
    # The receipt's JSON as stored, rather than through FastAPI's response model, which would
    # dump it, validate the dump and dump it again: ~0.1 s of this process per 1,000 records
    # (docs/performance.md), for a receipt that lists every field.
    code = status.HTTP_200_OK if stored.duplicate else status.HTTP_201_CREATED
    return Response(stored.receipt, code, media_type="application/json")


@router.get("/{record_id}", responses=responses(*AUTH_ERRORS, NotFound))
async def read(
    record_id: str,
    principal: Annotated[Principal, Depends(Allow())],
    runtime: RuntimeDep,
    graph: GraphDep,
) -> RecordOut:
    """A record with its fields' grades and provenance. Core-private values are plaintext only
    for the holding institution's own systems and requesters; others see the pseudonym."""
    return await graph.read(service.read_record, runtime.protector, principal, record_id)
