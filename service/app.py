"""The HTTP service: a thin transport over a check backend. No detection logic lives here.

    create_app(settings, checker)    the factory; tests pass their own settings and Checker (run in
                                     this process's threadpool, service/pool.py LocalChecks)
    create_app(settings, checks=pool)   what `postcheck serve` runs: jobs go to worker processes
                                     (service/pool.py WorkerPool), so this process never parses a draft

Routes: POST /v1/check, POST /v1/check/batch, GET /v1/rules, GET /healthz, and LanguageTool's
GET/POST /v2/check and GET /v2/languages for its clients and browser add-ons; the paste page and the
rule pages are in web.py. The wire format is in schemas.py, statuses in errors.py, logging/limits/token
in middleware.py, what a worker does with a job in jobs.py.
"""

from __future__ import annotations

import inspect
from contextlib import asynccontextmanager
from typing import Annotated, Any, AsyncIterator, Sequence

from fastapi import APIRouter, Depends, FastAPI, Form, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi_offline import FastAPIOffline

from checker import Checker
from starlette.middleware.cors import CORSMiddleware
from . import web
from .errors import InvalidRequest, install_error_handlers
from .jobs import VERSION, CheckJob, LanguageToolJob, batch_jobs, build_checker
from .languagetool import LANGUAGES, RuleSelection, require_api_key, resolve_language, software
from .middleware import AccessLog, BearerToken, BodyLimit
from .pool import Checks, LocalChecks
from .schemas import (
    BatchRequest,
    BatchResponse,
    CheckRequest,
    ErrorResponse,
    FieldProblem,
    HealthResponse,
    LTCheckForm,
    LTCheckResponse,
    LTLanguageEntry,
    ReportModel,
    RulesResponse,
)
from .settings import ServiceSettings

# /v2/languages is LanguageTool's public list, which its clients read before sending any credentials.
OPEN_PATHS = ("/healthz", "/v2/languages", *web.OPEN_PATHS)
LANGUAGETOOL_CHECK = "/v2/check"
DOCS_ASSETS = "/docs-assets"
JSON = ("application/json",)
FORM = ("application/x-www-form-urlencoded", "multipart/form-data")
# What each kind of route can answer besides 200 (README "Errors"). Every route reads its body through
# BodyLimit (408, 413); every route but /healthz may need the token (401); check routes validate their
# input (415, 422), wait for a worker (503 busy or check_timeout) and can lose one (500).
_STATUS_TEXT = {
    401: "Missing or wrong bearer token (when POSTCHECK_TOKEN is set).",
    408: "The request body did not arrive within POSTCHECK_BODY_TIMEOUT.",
    413: "Body over POSTCHECK_MAX_BODY_BYTES, or more drafts than POSTCHECK_MAX_BATCH.",
    415: "Wrong content type for this route.",
    422: "Malformed body, a field missing or invalid, an empty or over-long draft, an unknown rule id.",
    500: "A check worker failed; the draft was not stored or logged.",
    503: "busy: the wait queue is full or no worker came free in time; check_timeout: the check ran past "
         "POSTCHECK_TIMEOUT. Both carry Retry-After.",
}


def _responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": ErrorResponse, "description": _STATUS_TEXT[status]} for status in statuses}


OPEN_ERRORS = _responses(408, 413)
READ_ERRORS = _responses(401, 408, 413)
CHECK_ERRORS = _responses(401, 408, 413, 415, 422, 500, 503)
# FastAPI's native OpenTelemetry hands request bodies (drafts) to exporters; this app never has any.
_NO_TELEMETRY = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False,
                 "auto_configure": False}


def create_app(settings: ServiceSettings | None = None, checker: Checker | None = None,
               checks: Checks | None = None) -> FastAPI:
    """Build the app over `checks` (a WorkerPool), or over `checker` run in this process; with neither,
    a Checker is loaded at start-up, before the first request."""
    settings = settings or ServiceSettings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if app.state.checks is None:
            app.state.checks = LocalChecks(await run_in_threadpool(build_checker, settings))
        yield

    telemetry = {"telemetry": _NO_TELEMETRY} if "telemetry" in inspect.signature(FastAPI).parameters else {}
    app = FastAPIOffline(
        title="postcheck",
        version=VERSION,
        summary="Checks a clinician's draft post for patient identifiers, encounter timelines and venting.",
        lifespan=lifespan,
        redoc_url=None,
        static_url=DOCS_ASSETS,  # Swagger UI served from the package: no CDN, works offline
        **telemetry,
    )
    app.state.settings = settings
    app.state.checks = checks if checks is not None else (LocalChecks(checker) if checker is not None else None)
    install_error_handlers(app)
    app.include_router(router)
    app.include_router(web.router)

    # Added innermost first: the token is checked before any body is read, the CORS layer answers
    # preflights and decorates every answer (errors included), the access log sees everything.
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, timeout=settings.body_timeout)
    if settings.token:
        app.add_middleware(BearerToken, token=settings.token, open_paths=OPEN_PATHS,
                           open_prefixes=web.OPEN_PREFIXES, field_token_paths=(LANGUAGETOOL_CHECK,))
    if settings.cors_origins:
        # allow_private_network: Chrome asks before a page or extension may reach a loopback server.
        app.add_middleware(
            CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"], allow_credentials=False, max_age=600,
            allow_private_network=True,
        )
    paths = {route.path for route in (*app.routes, *router.routes, *web.router.routes)
             if isinstance(getattr(route, "path", None), str)}
    app.add_middleware(AccessLog, paths=paths, prefixes=(DOCS_ASSETS, *web.OPEN_PREFIXES))
    return app


# -- dependencies -------------------------------------------------------------------------------------

def get_checks(request: Request) -> Checks:
    return request.app.state.checks


def get_settings(request: Request) -> ServiceSettings:
    return request.app.state.settings


def content_type(*accepted: str):
    """415 unless the request's media type is one of `accepted` (checked before the body is validated)."""
    async def check(request: Request) -> None:
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media not in accepted:
            raise HTTPException(415, f"send the body as {' or '.join(accepted)}")
    return Depends(check)


def known_rules(rule_ids: Sequence[str], checks: Checks) -> tuple[str, ...]:
    """The ids to disable, all known; an unknown one is a 422 that names its position, never its text
    (a client may put anything in the list)."""
    if not rule_ids:
        return ()
    known = checks.info.rule_ids
    unknown = [position for position, rule_id in enumerate(rule_ids) if rule_id not in known]
    if unknown:
        shown = ", ".join(map(str, unknown[:10])) + (", ..." if len(unknown) > 10 else "")
        raise InvalidRequest(
            f"disable: {len(unknown)} unknown rule id{'s' if len(unknown) > 1 else ''} (at position "
            f"{shown}); GET /v1/rules lists them",
            [FieldProblem(field=f"disable.{position}", problem="unknown rule id") for position in unknown])
    return tuple(rule_ids)


ChecksDep = Annotated[Checks, Depends(get_checks)]
SettingsDep = Annotated[ServiceSettings, Depends(get_settings)]
router = APIRouter()


# -- routes -------------------------------------------------------------------------------------------

@router.get("/healthz", response_model=HealthResponse, responses=OPEN_ERRORS, tags=["service"],
            summary="Health")
async def healthz(checks: ChecksDep) -> dict:
    """Answers once the model and rules are loaded, whatever the check workers are doing; never needs
    the token."""
    info = checks.info
    return {"status": "ok", "version": VERSION, "rules": len(info.rules), "model": info.model,
            "workers": checks.ready_workers()}


@router.post("/v1/check", response_model=ReportModel, responses=CHECK_ERRORS, tags=["check"],
             summary="Check one draft",
             dependencies=[content_type(*JSON)])
async def check(body: CheckRequest, checks: ChecksDep) -> dict:
    """Check one draft; the report is the same JSON as `postcheck check --format json`."""
    return await checks.run(CheckJob(body.text, body.author, known_rules(body.disable, checks), tuple(body.allow)))


@router.post("/v1/check/batch", response_model=BatchResponse, responses=CHECK_ERRORS, tags=["check"],
             summary="Check many drafts",
             dependencies=[content_type(*JSON)])
async def check_batch(body: BatchRequest, checks: ChecksDep, settings: SettingsDep, request: Request) -> Any:
    """Check up to POSTCHECK_MAX_BATCH drafts (default 100), in slices of at most 50,000 characters; a
    draft that cannot be checked gets an `error` in its place instead of failing the others."""
    if len(body.drafts) > settings.max_batch:
        raise HTTPException(413, f"batch has {len(body.drafts)} drafts; the limit is {settings.max_batch} "
                                 "(POSTCHECK_MAX_BATCH)")
    disable = known_rules(body.disable, checks)
    results: list[dict] = []
    for index, job in enumerate(batch_jobs(((d.id, d.text) for d in body.drafts), body.author, disable,
                                           allow=tuple(body.allow))):
        if index and await request.is_disconnected():  # nobody is waiting for the rest: free the worker
            return Response(status_code=499)
        results.extend(await checks.run(job, follow_up=index > 0))
    return {"results": results}


@router.get("/v1/rules", response_model=RulesResponse, responses=READ_ERRORS, tags=["rules"],
            summary="List the rules")
async def rules(checks: ChecksDep) -> dict:
    """Every active rule: what it flags, why, what to write instead, and its own examples."""
    return {"rules": list(checks.info.rules)}


@router.post("/v2/check", response_model=LTCheckResponse, responses=CHECK_ERRORS, tags=["languagetool"],
             summary="Check, LanguageTool-compatible",
             dependencies=[Depends(require_api_key), content_type(*FORM)])
async def languagetool_check(form: Annotated[LTCheckForm, Form()], checks: ChecksDep,
                             request: Request) -> LTCheckResponse:
    """LanguageTool-compatible check: point a LanguageTool client or add-on's custom server here.
    Offsets are UTF-16 code units; `enabledRules`, `disabledRules`, `enabledCategories`,
    `disabledCategories` and `enabledOnly` take postcheck rule ids and categories (others are ignored,
    as LanguageTool does); `level=picky` adds info-level notes. With POSTCHECK_TOKEN set, send it as
    `apiKey` (with any `username`) or as a bearer token."""
    return await _languagetool_check(form, checks, request)


@router.get("/v2/check", response_model=LTCheckResponse, responses=CHECK_ERRORS, tags=["languagetool"],
            summary="Check, LanguageTool-compatible (query string)",
            dependencies=[Depends(require_api_key)])
async def languagetool_check_get(form: Annotated[LTCheckForm, Query()], checks: ChecksDep,
                                 request: Request) -> LTCheckResponse:
    """The same check with the fields in the query string, as some LanguageTool clients send short texts."""
    return await _languagetool_check(form, checks, request)


async def _languagetool_check(form: LTCheckForm, checks: Checks, request: Request) -> LTCheckResponse:
    language = resolve_language(form.language)
    matches: list = []
    # An emptied text field is nothing to check, not an error to a typing user; form parsing makes an
    # empty field and a missing one alike, so neither is an error.
    if form.data is not None or (form.text or "").strip():
        selection = RuleSelection.from_form(form, ((rule["id"], rule["category"]) for rule in checks.info.rules))
        matches = await checks.run(LanguageToolJob(
            form.text, form.data, selection.disabled, picky=(form.level or "").lower() == "picky",
            noted=selection.noted, rules_url=f"{str(request.base_url).rstrip('/')}/rules/"))
    return LTCheckResponse(software=software(VERSION), language=language, matches=matches)


@router.get("/v2/languages", response_model=list[LTLanguageEntry], responses=READ_ERRORS,
            tags=["languagetool"], summary="Languages, LanguageTool-compatible")
async def languagetool_languages() -> tuple[LTLanguageEntry, ...]:
    return LANGUAGES
