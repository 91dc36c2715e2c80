"""The paste page and the rule pages over HTTP: self-contained, under a strict CSP, served from the
installed package (the very rendering files the extension loads), open without the token, and
logged without their paths. The page's behaviour in a real browser is in test_browser_page.py."""

from __future__ import annotations

import html
import re
from pathlib import Path

import httpx
import pytest

import postcheck_ui
from postcheck_service.web import CSP

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO / "extension" / "shared"
PAGE_FILES = ("/", "/web/page.js", "/web/page.css", "/web/render.js", "/web/render.css", "/web/icon.svg")


def test_page_is_served_with_a_strict_content_security_policy(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["content-security-policy"] == CSP
    assert CSP == ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
                   "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"


def test_page_loads_nothing_from_any_other_host_and_nothing_inline(client):
    text = client.get("/").text
    references = re.findall(r'(?:src|href)="([^"]*)"', text)
    assert references and all(ref.startswith("/") or ref.startswith("#") for ref in references), references
    assert not re.search(r"<script(?![^>]*\bsrc=)", text), "an inline script would be blocked by the CSP"
    assert "<style" not in text and " style=" not in text
    for path in PAGE_FILES[1:]:
        body = client.get(path).text
        assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", body), f"{path} names another host"
        assert "@import" not in body and "fonts.g" not in body


def test_page_and_extension_run_the_same_rendering_files(client):
    """extension/shared/ is installed as the `postcheck_ui` package data: one file, two users."""
    installed = next(Path(p) for p in postcheck_ui.__path__ if Path(p).is_dir())
    for name in ("render.js", "render.css"):
        served = client.get(f"/web/{name}")
        assert served.status_code == 200
        assert served.content == (SHARED / name).read_bytes() == (installed / name).read_bytes()
    assert client.get("/web/render.js").headers["content-type"] == "text/javascript; charset=utf-8"


@pytest.mark.parametrize("path", ["/web/index.html", "/web/../pyproject.toml", "/web/%2e%2e%2fapp.py", "/web/nope.js"])
def test_only_the_page_files_are_served(client, path):
    assert client.get(path).status_code == 404


def test_rule_page_has_what_why_example_instead_and_reference(client, checker):
    rule = checker.ruleset.get("titled-name")
    page = client.get("/rules/titled-name")
    assert page.status_code == 200 and page.headers["content-security-policy"] == CSP
    for heading in ("What it flags", "Why it matters", "Example", "What to write instead"):
        assert f"<h2>{heading}</h2>" in page.text
    for field in (rule.message, rule.why, rule.instead, rule.reference, rule.examples_flag[0], rule.examples_pass[0]):
        assert html.escape(field, quote=True) in page.text
    assert '"' not in rule.why or html.escape('"') in page.text, "rule text is escaped, not pasted as HTML"


def test_rule_index_links_every_rule_and_unknown_rules_are_404(client, checker):
    index = client.get("/rules").text
    assert all(f'href="/rules/{rule.id}"' in index for rule in checker.ruleset.rules)
    missing = client.get("/rules/Quillfeather")
    assert missing.status_code == 404 and "Quillfeather" not in missing.text


def test_pages_need_no_token_but_checks_still_do(secured_server):
    with httpx.Client(base_url=secured_server.url, timeout=60) as http:
        for path in (*PAGE_FILES, "/rules", "/rules/age-exact"):
            assert http.get(path).status_code == 200, path
        assert http.post("/v1/check", json={"text": "Mrs. Quill came in"}).status_code == 401
        assert http.get("/v1/rules").status_code == 401
        assert http.get("/rulesx").status_code == 401, "only /rules and what is under it are open"


def test_page_paths_are_logged_without_what_follows_the_prefix(server, client):
    client.get("/rules/Quillfeather-Wexford")
    client.get("/web/render.js")
    log = server.stdout_path.read_text()
    assert "GET /rules/... 404" in log and "GET /web/... 200" in log
    assert "Quillfeather" not in log
