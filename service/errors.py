"""Every error the service answers with, mapped to an HTTP status here and nowhere else.

All errors share one JSON shape (`ErrorResponse`): a stable code, a one-line message and, for invalid
requests, the fields at fault. Nothing here repeats what the client sent: FastAPI's default 422 echoes
the offending input (`detail[].input`), which for this service is a patient story, so it is replaced.
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
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    500: "internal_error",
}
# A draft the checker cannot take is the client's to fix; any other library error is the server's.
STATUS_FOR_LIBRARY_ERROR = {InputError: 422}
_DEFAULT_MESSAGES = {
    401: "missing or wrong bearer token (Authorization: Bearer <POSTCHECK_TOKEN>)",
    404: "no such route; the API is described at /docs",
    405: "this route does not take that method",
    500: "internal error; the draft was not stored or logged",
}


def error_response(status: int, message: str | None = None, fields: Iterable[FieldProblem] = (),
                   headers: Mapping[str, str] | None = None) -> JSONResponse:
    body = ErrorResponse(error=ERROR_CODES.get(status, "error"), message=message or _DEFAULT_MESSAGES.get(
        status, HTTPStatus(status).phrase.lower()), fields=list(fields))
    return JSONResponse(body.model_dump(), status_code=status, headers=dict(headers or {}))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(PostcheckError, _library_error)


async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
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
    return FieldProblem(field=".".join(location), problem=problem)
