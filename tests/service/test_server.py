"""The real server over HTTP: every route, every error status, CORS, the token, and clean shutdown."""

from __future__ import annotations


import httpx
import pytest

from live_server import EXTENSION_ORIGIN, TOKEN, WEB_ORIGIN, start_server

DRAFT = "Admitted Mrs. Halvorsen, 84yo, to the unit last night at 3am after a fall at home."
CLEAN = "Reminder for interns: hydrate, eat something, and ask for help early on nights."


def test_healthz_answers_with_the_loaded_rules(client, checker):
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["rules"] == len(checker.ruleset.rules)
    assert body["model"].startswith("en_")


def test_check_returns_the_library_report_unchanged(client, checker):
    response = client.post("/v1/check", json={"text": DRAFT})
    assert response.status_code == 200
    assert response.json() == checker.check(DRAFT).to_dict()
    assert response.json()["verdict"] == "block"


def test_clean_draft_comes_back_clean(client):
    body = client.post("/v1/check", json={"text": CLEAN}).json()
    assert body["verdict"] == "ok" and body["findings"] == [] and body["redacted"] == CLEAN


def test_per_request_author_and_disable_match_the_library(client, checker):
    draft = "Dr. Okonkwo here: saw Mr. Brandt, 77, in clinic this morning."
    options = {"author": "Okonkwo", "disable": ["age-exact"]}
    response = client.post("/v1/check", json={"text": draft, **options})
    assert response.status_code == 200
    expected = checker.check(draft, author="Okonkwo", disable=["age-exact"]).to_dict()
    assert response.json() == expected
    rules = {f["rule"] for f in response.json()["findings"]}
    assert "age-exact" not in rules and rules, "disable removed only the named rule"


def test_batch_keeps_order_and_reports_bad_drafts_in_place(client, checker):
    drafts = [{"id": "a", "text": DRAFT}, {"id": "b", "text": "   "}, {"text": CLEAN}]
    response = client.post("/v1/check/batch", json={"drafts": drafts})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["id"] for r in results] == ["a", "b", None]
    assert results[0]["report"] == checker.check(DRAFT).to_dict()
    assert results[1]["report"] is None and results[1]["error"] == "draft is empty"
    assert results[2]["report"]["verdict"] == "ok"


def test_batch_over_the_limit_is_413(client):
    response = client.post("/v1/check/batch", json={"drafts": [{"text": CLEAN}] * 6})
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large" and "limit is 5" in response.json()["message"]


def test_rules_lists_every_active_rule(client, checker):
    rules = client.get("/v1/rules").json()["rules"]
    assert [r["id"] for r in rules] == [r.id for r in checker.ruleset.rules]
    first = checker.ruleset.rules[0]
    assert rules[0]["examples"] == {"flag": list(first.examples_flag), "pass": list(first.examples_pass)}


def test_openapi_document_comes_from_the_wire_models(client):
    spec = client.get("/openapi.json").json()
    assert {"/v1/check", "/v1/check/batch", "/v1/rules", "/healthz", "/v2/check", "/v2/languages"} <= set(spec["paths"])
    request_ref = spec["paths"]["/v1/check"]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert request_ref.endswith("/CheckRequest")
    assert set(spec["components"]["schemas"]["CheckRequest"]["properties"]) == {"text", "platform", "author", "disable", "allow"}


def test_docs_page_works_offline(client):
    page = client.get("/docs")
    assert page.status_code == 200 and "swagger-ui" in page.text
    assert "http://" not in page.text and "https://" not in page.text, "docs must not pull assets from a CDN"
    for asset in ("/docs-assets/swagger-ui-bundle.js", "/docs-assets/swagger-ui.css"):
        assert asset in page.text
        assert client.get(asset).status_code == 200


# -- errors: always JSON, never a 500 for bad input, never the input echoed back ---------------------

@pytest.mark.parametrize("body, needle", [
    (b'{"text": "Mrs. Quill', "malformed JSON"),
    (b'{"author": "me"}', "text: field required"),
    (b'{"text": 42}', "text"),
    (b'{"text": "ok", "disabled": ["age-exact"]}', "unknown field"),
    (b'{"text": "ok", "disable": ["no-such-rule"]}', "unknown rule id(s): no-such-rule"),
    (b'{"text": "   "}', "draft is empty"),
    (b'[]', "invalid request"),
    (b'{"text": "Mrs. Quill \\ud83d came in"}', "unpaired surrogate at character 11"),
])
def test_bad_json_requests_are_422_with_a_clear_message(client, body, needle):
    response = client.post("/v1/check", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"
    assert needle in response.json()["message"]


def test_validation_errors_do_not_echo_the_input(client):
    secret = "Mrs. Quillfeather of Lot 9"
    for body in ({"text": [secret]}, {"text": {"nested": secret}}, {"text": "ok", secret: 1}):
        response = client.post("/v1/check", json=body)
        assert response.status_code == 422
        assert "Quillfeather" not in response.text


def test_body_over_the_limit_is_413(client):
    response = client.post("/v1/check", json={"text": "x" * 300_000})
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"


def test_chunked_body_over_the_limit_is_413(client):
    def chunks():
        yield b'{"text": "'
        for _ in range(30):
            yield b"y" * 10_000
        yield b'"}'

    response = client.post("/v1/check", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413


@pytest.mark.parametrize("path, kwargs", [
    ("/v1/check", {"content": b"Mrs. Quill", "headers": {"content-type": "text/plain"}}),
    ("/v1/check", {"data": {"text": "hello"}}),
    ("/v1/check/batch", {"content": b"{}", "headers": {}}),
    ("/v2/check", {"json": {"text": "hello", "language": "en-US"}}),
])
def test_wrong_content_type_is_415(client, path, kwargs):
    response = client.post(path, **kwargs)
    assert response.status_code == 415
    assert response.json()["error"] == "unsupported_media_type"


def test_unknown_route_is_json_404_and_wrong_method_405(client):
    missing = client.get("/v1/chekc/Mrs-Quill")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    assert "Quill" not in missing.text
    wrong = client.get("/v1/check")
    assert wrong.status_code == 405 and wrong.json()["error"] == "method_not_allowed"


# -- CORS ---------------------------------------------------------------------------------------------

def _preflight(client, origin):
    return client.options("/v1/check", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,authorization",
    })


@pytest.mark.parametrize("origin", [EXTENSION_ORIGIN, WEB_ORIGIN])
def test_cors_preflight_from_a_configured_origin_is_allowed(client, origin):
    response = _preflight(client, origin)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == origin
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "authorization" in response.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in response.headers
    actual = client.post("/v1/check", json={"text": CLEAN}, headers={"Origin": origin})
    assert actual.headers["access-control-allow-origin"] == origin


def test_cors_refuses_other_origins(client):
    for origin in ("chrome-extension://someoneelse", "https://evil.example.com"):
        response = _preflight(client, origin)
        assert response.status_code == 400
        assert "access-control-allow-origin" not in response.headers
        actual = client.post("/v1/check", json={"text": CLEAN}, headers={"Origin": origin})
        assert "access-control-allow-origin" not in actual.headers


# -- token, and several workers -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def token_server(tmp_path_factory):
    env = {"POSTCHECK_TOKEN": TOKEN, "POSTCHECK_CORS_ORIGINS": EXTENSION_ORIGIN}
    running = start_server(tmp_path_factory.mktemp("token-server"), env, workers=2)
    yield running
    assert running.stop() == 0


def test_token_is_required_everywhere_but_healthz(token_server):
    with httpx.Client(base_url=token_server.url, timeout=60) as http:
        assert http.get("/healthz").status_code == 200
        assert http.get("/v2/languages").status_code == 200, "LanguageTool clients read it before any credentials"
        for method, path in (("POST", "/v1/check"), ("GET", "/v1/rules"), ("POST", "/v2/check"),
                             ("GET", "/v2/check"), ("GET", "/docs"), ("GET", "/openapi.json"),
                             ("GET", "/no-such-route")):
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
                response = http.request(method, path, headers=headers)
                assert response.status_code == 401, (method, path, headers)
                assert response.json()["error"] == "unauthorized"
                assert response.headers["www-authenticate"] == "Bearer"
        good = {"Authorization": f"Bearer {TOKEN}"}
        assert http.post("/v1/check", json={"text": DRAFT}, headers=good).json()["verdict"] == "block"
        assert http.get("/v1/rules", headers=good).status_code == 200


def test_extension_preflight_needs_no_token_and_sees_the_401(token_server):
    """Browsers send preflights without credentials; the extension must also be able to read a 401."""
    with httpx.Client(base_url=token_server.url, timeout=60) as http:
        preflight = _preflight(http, EXTENSION_ORIGIN)
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == EXTENSION_ORIGIN
        refused = http.post("/v1/check", json={"text": CLEAN}, headers={"Origin": EXTENSION_ORIGIN})
        assert refused.status_code == 401
        assert refused.headers["access-control-allow-origin"] == EXTENSION_ORIGIN


def test_several_workers_answer_in_parallel(token_server):
    """Two workers, each with its own Checker: eight concurrent checks all come back right."""
    good = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=token_server.url, timeout=60, headers=good) as http:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(8) as pool:
            verdicts = list(pool.map(lambda text: http.post("/v1/check", json={"text": text}).json()["verdict"],
                                     [DRAFT, CLEAN] * 4))
    assert verdicts == ["block", "ok"] * 4
    assert "Started parent process" in token_server.output()
    assert "POST /v1/check 200" in token_server.stdout_path.read_text(), "workers write the access log too"


def test_access_log_has_one_line_per_request_without_query_or_client(server, client):
    client.get("/v1/rules?who=Quillfeather")
    log = server.stdout_path.read_text()
    line = [entry for entry in log.splitlines() if "GET /v1/rules 200" in entry][-1]
    assert "Quillfeather" not in log and "127.0.0.1" not in log
    assert "in=0B" in line and "out=" in line and line.endswith("ms")
