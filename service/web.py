"""The paste page and the rule pages, for clinicians without a terminal.

    GET /              the paste page: a draft box checked as you type, underlines with cards, the
                       verdict and risk in words, the findings, "copy a safer version"
    GET /web/NAME      its files (and the rendering module it shares with the browser extension)
    GET /rules         every active rule, linked
    GET /rules/ID      one rule: what it flags, why (with its reference), an example, what to write
                       instead. LanguageTool matches link here (`rule.urls`).

Everything is served from package data: no CDN, no web font, no script from any other host. HTML goes
out with a strict Content-Security-Policy (`CSP`): scripts and styles from this server only, requests to
this server only, nothing inline, no framing. None of these routes takes or returns a draft, so they are
open even when POSTCHECK_TOKEN is set (`OPEN_PATHS`, `OPEN_PREFIXES`); the page asks for the token when
a check answers 401.

The rendering module (`render.js`, `render.css`) lives in `extension/shared/`, where the unpacked
extension loads it; the wheel installs that same folder as the `postcheck_ui` package data, so the
page and the extension run one file, not two copies.
"""

from __future__ import annotations

import html
from importlib.resources import files
from pathlib import Path
from typing import Iterable

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

import postcheck_ui
from checker.rules import Rule

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
       "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cache-Control": "no-cache",
}
OPEN_PATHS = ("/", "/rules")
OPEN_PREFIXES = ("/web", "/rules")
MEDIA_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
               ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
CATEGORY_NAMES = {"identifier": "Patient identifier", "timeline": "Encounter timeline", "venting": "Venting",
                  "conduct": "Professional conduct"}
SEVERITY_NAMES = {"error": "must fix (blocks the post)", "warning": "should fix (review)",
                  "info": "a note (never changes the verdict)"}


def _ui_directory() -> Path:
    # `postcheck_ui` is a namespace package (the extension folder cannot hold an __init__.py: Chrome
    # refuses files whose names start with "_"), so its directory comes from __path__, not files().
    return next(Path(entry) for entry in postcheck_ui.__path__ if Path(entry).is_dir())


def _load_assets() -> dict[str, tuple[bytes, str]]:
    """Every file the page may ask for, read once: name -> (bytes, media type). Only these names are
    served, so no path from a request ever reaches the file system."""
    page = files(__package__) / "web"
    sources = [(entry.name, entry.read_bytes()) for entry in page.iterdir() if entry.is_file()]
    sources += [(entry.name, entry.read_bytes()) for entry in _ui_directory().iterdir() if entry.is_file()]
    return {name: (data, MEDIA_TYPES[Path(name).suffix]) for name, data in sources
            if Path(name).suffix in MEDIA_TYPES}


ASSETS = _load_assets()
router = APIRouter(include_in_schema=False)


@router.get("/")
async def paste_page() -> Response:
    data, media = ASSETS["index.html"]
    return Response(data, media_type=media, headers=PAGE_HEADERS)


@router.get("/web/{name}")
async def asset(name: str) -> Response:
    if name not in ASSETS or name == "index.html":
        raise HTTPException(404, "no such file")
    data, media = ASSETS[name]
    return Response(data, media_type=media, headers=PAGE_HEADERS)


@router.get("/rules")
async def rule_index(request: Request) -> HTMLResponse:
    rules = request.app.state.checker.ruleset.rules
    items = "".join(
        f'<li><a href="/rules/{_e(rule.id)}"><code>{_e(rule.id)}</code></a> {_e(rule.message)} '
        f'<span class="rule-meta">({_e(CATEGORY_NAMES.get(rule.category, rule.category))}, {_e(rule.severity)})</span></li>'
        for rule in rules)
    body = f'<h1>Rules</h1><p>{len(rules)} rules are active on this server.</p><ul class="rule-list">{items}</ul>'
    return _page("Rules", body)


@router.get("/rules/{rule_id}")
async def rule_page(rule_id: str, request: Request) -> HTMLResponse:
    rule = request.app.state.checker.ruleset.get(rule_id)
    if rule is None:
        raise HTTPException(404, "no such rule; every rule is listed at /rules")
    return _page(f"{rule.id}: {rule.message}", render_rule_page(rule))


def render_rule_page(rule: Rule) -> str:
    """Ruff's four parts, as `postcheck rules ID` prints them: what, why (and reference), example, instead."""
    return "".join([
        f'<p class="rule-meta"><code>{_e(rule.id)}</code> · {_e(CATEGORY_NAMES.get(rule.category, rule.category))}'
        f' · {_e(SEVERITY_NAMES.get(rule.severity, rule.severity))}</p>',
        f"<h1>{_e(rule.message)}</h1>",
        "<h2>What it flags</h2>", f"<p>{_e(rule.message)}.</p>",
        "<h2>Why it matters</h2>", f"<p>{_e(rule.why)}</p>",
        f'<p class="reference"><strong>Reference:</strong> {_e(rule.reference)}</p>',
        "<h2>Example</h2>", _examples("Flagged", "flag", rule.examples_flag), _examples("Passes", "pass", rule.examples_pass),
        "<h2>What to write instead</h2>", f"<p>{_e(rule.instead)}</p>",
    ])


def _examples(label: str, kind: str, examples: Iterable[str]) -> str:
    items = "".join(f"<li>{_e(example)}</li>" for example in examples)
    return f'<h3>{label}</h3><ul class="examples examples-{kind}">{items}</ul>' if items else ""


def _page(title: str, body: str) -> HTMLResponse:
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)} · postcheck</title>"
        '<link rel="icon" href="/web/icon.svg" type="image/svg+xml">'
        '<link rel="stylesheet" href="/web/render.css"><link rel="stylesheet" href="/web/page.css">'
        '</head><body class="rule-page"><header class="site"><p class="crumbs"><a href="/">postcheck</a> · '
        f'<a href="/rules">Rules</a></p></header><main id="main">{body}</main></body></html>'
    )
    return HTMLResponse(document, headers=PAGE_HEADERS)


def _e(text: str) -> str:
    return html.escape(text, quote=True)
