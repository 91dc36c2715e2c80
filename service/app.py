"""The HTTP service: a thin transport over one loaded Checker. No detection logic lives here.

    create_app(settings, checker)   the factory; tests pass their own settings and Checker
    postcheck serve                  runs it under uvicorn (service/server.py)

Routes: POST /v1/check, POST /v1/check/batch, GET /v1/rules, GET /healthz, and LanguageTool's
GET/POST /v2/check and GET /v2/languages for its clients and browser add-ons; the paste page and the
rule pages are in web.py. The wire format is in schemas.py, statuses in errors.py, logging/limits/token
in middleware.py.

Checking is CPU-bound, so the check routes are plain `def`: FastAPI runs them in its threadpool and a
long draft does not stall the event loop (or the health check) while others wait. For more than one
core, `--workers N` runs N processes that share nothing but the read-only model files.
"""

from __future__ import annotations

import inspect
from contextlib import asynccontextmanager
from importlib.metadata import version
from typing import Annotated, AsyncIterator

from fastapi import APIRouter, Depends, FastAPI, Form, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi_offline import FastAPIOffline
from starlette.middleware.cors import CORSMiddleware

from checker import Checker, Report
from checker.config import checker_options_from_env
from checker.errors import InputError
from .errors import install_error_handlers
from . import web
from .languagetool import (
    LANGUAGES,
    AnnotatedText,
    RuleSelection,
    require_api_key,
    resolve_language,
    software,
    to_matches,
)
from .middleware import AccessLog, BearerToken, BodyLimit
from .schemas import (
    BatchRequest,
    BatchResponse,
    CheckRequest,
    ErrorResponse,
    HealthResponse,
    LTCheckForm,
    LTCheckResponse,
    LTLanguageEntry,
    ReportModel,
    RulesResponse,
)
from .settings import ServiceSettings

VERSION = version("postcheck")
# /v2/languages is LanguageTool's public list, which its clients read before sending any credentials.
OPEN_PATHS = ("/healthz", "/v2/languages", *web.OPEN_PATHS)
LANGUAGETOOL_CHECK = "/v2/check"
DOCS_ASSETS = "/docs-assets"
JSON = ("application/json",)
FORM = ("application/x-www-form-urlencoded", "multipart/form-data")
ERRORS = {status: {"model": ErrorResponse} for status in (401, 413, 415, 422)}
# FastAPI's native OpenTelemetry hands request bodies (drafts) to exporters; this app never has any.
_NO_TELEMETRY = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False,
                 "auto_configure": False}


def create_app(settings: ServiceSettings | None = None, checker: Checker | None = None) -> FastAPI:
    """Build the app. Without a `checker`, one is loaded at start-up, before the first request."""
    settings = settings or ServiceSettings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if app.state.checker is None:
            app.state.checker = await run_in_threadpool(
                lambda: Checker(max_chars=settings.max_chars, **checker_options_from_env()))
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
    app.state.checker = checker
    install_error_handlers(app)
    app.include_router(router)
    app.include_router(web.router)

    # Added innermost first: the token is checked before any body is read, the CORS layer answers
    # preflights and decorates every answer (errors included), the access log sees everything.
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
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
    paths = {route.path for route in (*app.routes, *router.routes)
             if isinstance(getattr(route, "path", None), str)}
    app.add_middleware(AccessLog, paths=paths, prefixes=(DOCS_ASSETS, *web.OPEN_PREFIXES))
    return app


# -- dependencies -------------------------------------------------------------------------------------

def get_checker(request: Request) -> Checker:
    return request.app.state.checker


def get_settings(request: Request) -> ServiceSettings:
    return request.app.state.settings


def content_type(*accepted: str):
    """415 unless the request's media type is one of `accepted` (checked before the body is validated)."""
    async def check(request: Request) -> None:
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media not in accepted:
            raise HTTPException(415, f"send the body as {' or '.join(accepted)}")
    return Depends(check)


CheckerDep = Annotated[Checker, Depends(get_checker)]
SettingsDep = Annotated[ServiceSettings, Depends(get_settings)]
router = APIRouter()


# -- routes -------------------------------------------------------------------------------------------

@router.get("/healthz", response_model=HealthResponse, tags=["service"], summary="Health")
async def healthz(checker: CheckerDep) -> dict:
    """Answers once the model and rules are loaded; never needs the token."""
    meta = checker.nlp.meta
    return {"status": "ok", "version": VERSION, "rules": len(checker.ruleset.rules),
            "model": f"{meta.get('lang', '')}_{meta.get('name', '')}-{meta.get('version', '')}"}


@router.post("/v1/check", response_model=ReportModel, responses=ERRORS, tags=["check"],
             summary="Check one draft",
             dependencies=[content_type(*JSON)])
def check(body: CheckRequest, checker: CheckerDep) -> dict:
    """Check one draft; the report is the same JSON as `postcheck check --format json`."""
    return checker.check(body.text, author=body.author, disable=body.disable, allow=body.allow).to_dict()


@router.post("/v1/check/batch", response_model=BatchResponse, responses=ERRORS, tags=["check"],
             summary="Check many drafts",
             dependencies=[content_type(*JSON)])
def check_batch(body: BatchRequest, checker: CheckerDep, settings: SettingsDep) -> dict:
    """Check up to POSTCHECK_MAX_BATCH drafts (default 100) in one parse batch; a draft that cannot be
    checked gets an `error` in its place instead of failing the others."""
    if len(body.drafts) > settings.max_batch:
        raise HTTPException(413, f"batch has {len(body.drafts)} drafts; the limit is {settings.max_batch} "
                                 "(POSTCHECK_MAX_BATCH)")
    outcomes = checker.check_stream(((d.id, d.text) for d in body.drafts), author=body.author,
                                    disable=body.disable, allow=body.allow)
    return {"results": [{"id": key, "report": outcome.to_dict()} if isinstance(outcome, Report)
                        else {"id": key, "error": str(outcome)} for key, outcome in outcomes]}


@router.get("/v1/rules", response_model=RulesResponse, tags=["rules"], summary="List the rules")
async def rules(checker: CheckerDep) -> dict:
    """Every active rule: what it flags, why, what to write instead, and its own examples."""
    return {"rules": [{
        "id": rule.id, "category": rule.category, "type": rule.type, "severity": rule.severity,
        "message": rule.message, "why": rule.why, "instead": rule.instead, "reference": rule.reference,
        "quasi": rule.quasi, "examples": {"flag": list(rule.examples_flag), "pass": list(rule.examples_pass)},
    } for rule in checker.ruleset.rules]}


@router.post("/v2/check", response_model=LTCheckResponse, responses=ERRORS, tags=["languagetool"],
             summary="Check, LanguageTool-compatible",
             dependencies=[Depends(require_api_key), content_type(*FORM)])
def languagetool_check(form: Annotated[LTCheckForm, Form()], checker: CheckerDep,
                       request: Request) -> LTCheckResponse:
    """LanguageTool-compatible check: point a LanguageTool client or add-on's custom server here.
    Offsets are UTF-16 code units; `enabledRules`, `disabledRules`, `enabledCategories`,
    `disabledCategories` and `enabledOnly` take postcheck rule ids and categories (others are ignored,
    as LanguageTool does); `level=picky` adds info-level notes. With POSTCHECK_TOKEN set, send it as
    `apiKey` (with any `username`) or as a bearer token."""
    return _languagetool_check(form, checker, request)


@router.get("/v2/check", response_model=LTCheckResponse, responses=ERRORS, tags=["languagetool"],
            summary="Check, LanguageTool-compatible (query string)",
            dependencies=[Depends(require_api_key)])
def languagetool_check_get(form: Annotated[LTCheckForm, Query()], checker: CheckerDep,
                           request: Request) -> LTCheckResponse:
    """The same check with the fields in the query string, as some LanguageTool clients send short texts."""
    return _languagetool_check(form, checker, request)


def _languagetool_check(form: LTCheckForm, checker: Checker, request: Request) -> LTCheckResponse:
    language = resolve_language(form.language)
    if form.data is not None:
        annotated = AnnotatedText.from_data(form.data)
    elif form.text is not None:
        annotated = AnnotatedText.from_text(form.text)
    else:
        raise InputError("send the draft as the 'text' or 'data' form field")
    selection = RuleSelection.from_form(form, checker.ruleset.rules)
    matches = []
    if annotated.plain.strip():  # an emptied text field is not an error to a typing user
        report = checker.check(annotated.plain, disable=selection.disabled)
        rules_url = f"{str(request.base_url).rstrip('/')}/rules/"
        matches = to_matches(report, annotated, picky=(form.level or "").lower() == "picky",
                             rule_url=lambda rule_id: rules_url + rule_id, noted=selection.noted)
    return LTCheckResponse(software=software(VERSION), language=language, matches=matches)


@router.get("/v2/languages", response_model=list[LTLanguageEntry], tags=["languagetool"],
            summary="Languages, LanguageTool-compatible")
async def languagetool_languages() -> tuple[LTLanguageEntry, ...]:
    return LANGUAGES
