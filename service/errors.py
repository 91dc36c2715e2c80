"""Every error the service answers with, mapped to an HTTP status here and nowhere else.

All errors share one JSON shape (`ErrorResponse`): a stable code, a one-line message and, for invalid
requests, the fields at fault. Nothing here repeats what the client sent: FastAPI's default 422 echoes
the offending input (`detail[].input`), which for this service is a patient story, so it is replaced;
a rule id the client asked to disable is named by its position, never by its text.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, Iterable, Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from checker.errors import InputError, PostcheckError
from .schemas import ErrorResponse, FieldProblem

ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    500: "internal_error",
    503: "busy",
}
# A draft the checker cannot take is the client's to fix; any other library error is the server's.
STATUS_FOR_LIBRARY_ERROR = {InputError: 422}
_DEFAULT_MESSAGES = {
    401: "missing or wrong bearer token (Authorization: Bearer <POSTCHECK_TOKEN>)",
    404: "no such route; the API is described at /docs",
    405: "this route does not take that method",
    500: "internal error; the draft was not stored or logged",
}
MALFORMED_BODY = "malformed request body: it could not be parsed as the declared content type"


class ServiceError(Exception):
    """An answer the service gives for its own reasons (capacity, deadlines), not the library's."""

    status = 500
    code = "internal_error"
    retry_after: int | None = None
    message = _DEFAULT_MESSAGES[500]

    def __init__(self, message: str | None = None):
        super().__init__(message or self.message)


class Busy(ServiceError):
    """Every check worker is taken and the wait queue is full, or no worker came free in time."""

    status, code, retry_after = 503, "busy", 1
    message = "all check workers are busy; try again shortly (POSTCHECK_QUEUE, POSTCHECK_TIMEOUT)"


class CheckTimeout(ServiceError):
    """A check ran past its deadline; its worker was stopped and is being replaced."""

    status, code, retry_after = 503, "check_timeout", 5
    message = "the check took longer than the server allows (POSTCHECK_TIMEOUT) and was stopped"


class WorkerFailed(ServiceError):
    """A check worker died or hit a bug; the message says only what kind, never with what input."""


class InvalidRequest(ServiceError):
    """The request is well-formed but names something that does not exist (e.g. an unknown rule id)."""

    status, code = 422, "invalid_request"

    def __init__(self, message: str, fields: Iterable[FieldProblem] = ()):
        super().__init__(message)
        self.fields = list(fields)


def error_response(status: int, message: str | None = None, fields: Iterable[FieldProblem] = (),
                   headers: Mapping[str, str] | None = None, code: str | None = None) -> JSONResponse:
    body = ErrorResponse(error=code or ERROR_CODES.get(status, "error"), message=message or _DEFAULT_MESSAGES.get(
        status, HTTPStatus(status).phrase.lower()), fields=list(fields))
    return JSONResponse(body.model_dump(), status_code=status, headers=dict(headers or {}))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(PostcheckError, _library_error)
    app.add_exception_handler(ServiceError, _service_error)


async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    if exc.status_code == 400:
        # FastAPI and Starlette answer 400 when a body cannot be parsed at all (JSON nested past the
        # parser's recursion limit, a multipart body without its boundary): the same client mistake as
        # malformed JSON, so the same documented 422, and never the parser's own words.
        return error_response(422, MALFORMED_BODY, [FieldProblem(field="", problem=MALFORMED_BODY)])
    # Starlette's own 404/405 carry only the status phrase; ours carry a message worth showing.
    generic = exc.detail == HTTPStatus(exc.status_code).phrase
    return error_response(exc.status_code, None if generic else str(exc.detail), headers=exc.headers)


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    fields = [_field_problem(error) for error in exc.errors()]
    summary = "; ".join(f"{f.field}: {f.problem}" if f.field else f.problem for f in fields[:3])
    return error_response(422, f"invalid request: {summary}", fields)


async def _library_error(request: Request, exc: PostcheckError) -> JSONResponse:
    status = next((code for kind, code in STATUS_FOR_LIBRARY_ERROR.items() if isinstance(exc, kind)), 500)
    return error_response(status, str(exc) if status < 500 else None)


async def _service_error(request: Request, exc: ServiceError) -> JSONResponse:
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else None
    fields = exc.fields if isinstance(exc, InvalidRequest) else ()
    message = str(exc) if exc.status < 500 or exc.status == 503 else None
    return error_response(exc.status, message, fields, headers=headers, code=exc.code)


def _field_problem(error: Mapping[str, Any]) -> FieldProblem:
    """Where and what, from pydantic's error, without its `input` (the draft) or unknown keys' names."""
    location = [str(part) for part in error.get("loc", ()) if part != "body"]
    kind = error.get("type", "")
    problem = str(error.get("msg", "invalid"))
    if kind == "json_invalid":
        location, problem = [], f"malformed JSON ({error.get('ctx', {}).get('error', 'cannot parse')})"
    elif kind == "extra_forbidden":
        location, problem = location[:-1], "unknown field; see /docs for the request schema"
    elif kind == "missing":
        problem = "field required"
    elif kind == "string_unicode":  # JSON and JavaScript can carry half an emoji (a lone surrogate)
        problem = "not valid Unicode (an unpaired surrogate: half an emoji?)"
    return FieldProblem(field=".".join(location), problem=problem)
