"""LanguageTool interoperability beyond the basics: the token as LanguageTool's `apiKey` (with the real
`language_tool_python` client), rule pages in `rule.urls`, drop-in `replacements`, LanguageTool's rule
and category options, GET /v2/check, and the private-network preflight Chrome sends."""

from __future__ import annotations

import httpx
import language_tool_python
import pytest

from live_server import EXTENSION_ORIGIN, TOKEN

DRAFT = "🎉 Then Mrs. Halvorsen, 84yo, came in last night at 3am."
NOTED = "🎉 Then Mrs. Halvorsen, a retired schoolteacher, came in."  # occupation stays an info note here


class TokenLanguageTool(language_tool_python.LanguageTool):
    """language_tool_python has no option for credentials; this is how a user adds LanguageTool's own
    `username` and `apiKey` fields to every check (README, "LanguageTool clients")."""

    def __init__(self, *args, api_key: str, **kwargs):
        self.api_key = api_key
        super().__init__(*args, **kwargs)

    def _create_params(self, text):
        return super()._create_params(text) | {"username": "me@example.org", "apiKey": self.api_key}


def test_real_client_passes_the_token_as_api_key(secured_server, checker, no_local_languagetool):
    with TokenLanguageTool("en-US", remote_server=secured_server.url, api_key=TOKEN) as tool:
        matches = tool.check(DRAFT)
    expected = [(f.rule, f.text) for f in checker.check(DRAFT).counted]
    assert [(m.rule_id, DRAFT[m.offset:m.offset + m.error_length]) for m in matches] == expected
    ages = [m for m in matches if m.rule_id == "age-exact"]
    rewrite = next(f.rewrite for f in checker.check(DRAFT).findings if f.rule == "age-exact")
    assert ages and ages[0].replacements == [rewrite]


def test_client_without_the_key_can_start_but_not_check(secured_server, no_local_languagetool):
    """/v2/languages is open, as on LanguageTool's own servers, so the client no longer crashes on
    start-up; a check without the key is refused."""
    with language_tool_python.LanguageTool("en-US", remote_server=secured_server.url) as tool:
        assert "en-US" in tool._get_languages()
    refused = httpx.post(f"{secured_server.url}/v2/check", data={"text": DRAFT, "language": "en-US"})
    assert refused.status_code == 401


@pytest.mark.parametrize("method, where", [("POST", "data"), ("GET", "params")])
def test_api_key_in_the_form_or_the_query_string(secured_server, method, where):
    fields = {"text": DRAFT, "language": "en-US", "username": "me", "apiKey": TOKEN}
    response = httpx.request(method, f"{secured_server.url}/v2/check", **{where: fields}, timeout=60)
    assert response.status_code == 200
    assert "titled-name" in {m["rule"]["id"] for m in response.json()["matches"]}


@pytest.mark.parametrize("fields, headers", [
    ({"apiKey": "wrong"}, {}),
    ({}, {}),
    ({"apiKey": TOKEN}, {"Authorization": "Bearer wrong"}),  # a header that is there must be right
    ({"apiKey": "wrong", "language": None}, {}),  # refused before the body is validated
])
def test_wrong_or_missing_credentials_are_401(secured_server, fields, headers):
    data = {k: v for k, v in ({"text": DRAFT, "language": "en-US"} | fields).items() if v is not None}
    response = httpx.post(f"{secured_server.url}/v2/check", data=data, headers=headers, timeout=60)
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert "Halvorsen" not in response.text


def test_bearer_token_still_works_for_languagetool_routes(secured_server):
    response = httpx.post(f"{secured_server.url}/v2/check", data={"text": DRAFT, "language": "en-US"},
                          headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)
    assert response.status_code == 200 and response.json()["matches"]


def test_rule_urls_link_to_rule_pages_that_need_no_token(secured_server):
    body = httpx.post(f"{secured_server.url}/v2/check", data={"text": DRAFT, "language": "en-US", "apiKey": TOKEN},
                      timeout=60).json()
    for match in body["matches"]:
        assert match["rule"]["urls"] == [{"value": f"{secured_server.url}/rules/{match['rule']['id']}"}]
    page = httpx.get(body["matches"][0]["rule"]["urls"][0]["value"])  # a browser tab: no credentials
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Why it matters" in page.text and "What to write instead" in page.text


def test_replacements_hold_the_findings_own_rewrites(client, checker):
    matches = client.post("/v2/check", data={"text": DRAFT, "language": "en-US"}).json()["matches"]
    replacements = {m["rule"]["id"]: [r["value"] for r in m["replacements"]] for m in matches}
    rewrites = {f.rule: f.rewrite for f in checker.check(DRAFT).counted}
    assert replacements == {rule: [rewrite] if rewrite else [] for rule, rewrite in rewrites.items()}
    assert replacements["age-exact"]


def _rules(client, text=DRAFT, **fields) -> list[str]:
    response = client.post("/v2/check", data={"text": text, "language": "en-US"} | fields)
    assert response.status_code == 200, response.text
    return [m["rule"]["id"] for m in response.json()["matches"]]


def test_rule_and_category_options(client):
    everything = _rules(client)
    assert {"titled-name", "age-exact", "relative-time"} <= set(everything)
    assert _rules(client, enabledOnly="true", enabledRules="titled-name") == ["titled-name"]
    assert set(_rules(client, enabledOnly="true", enabledCategories="timeline")) == {"relative-time"}
    assert not {"titled-name", "age-exact"} & set(_rules(client, disabledCategories="IDENTIFIER,TYPOS"))
    assert _rules(client, NOTED) == ["titled-name"], "info notes need picky, or their rule or category named"
    assert _rules(client, NOTED, enabledRules="occupation,UPPERCASE_SENTENCE_START") == ["titled-name", "occupation"]
    assert _rules(client, NOTED, enabledCategories="IDENTIFIER") == ["titled-name", "occupation"]
    assert _rules(client, NOTED, enabledOnly="true", enabledRules="occupation") == ["occupation"]
    assert _rules(client, enabledOnly="false", enabledRules="NO_SUCH_RULE") == everything
    assert _rules(client, enabledOnly="true", enabledRules="titled-name", disabledRules="titled-name") == []


def test_enabled_only_without_anything_enabled_is_422(client):
    response = client.post("/v2/check", data={"text": DRAFT, "language": "en-US", "enabledOnly": "true"})
    assert response.status_code == 422
    assert "enabledOnly=true needs enabledRules or enabledCategories" in response.json()["message"]


def test_get_check_answers_like_post(client):
    fields = {"text": DRAFT, "language": "en-US", "level": "picky"}
    posted = client.post("/v2/check", data=fields).json()
    got = client.get("/v2/check", params=fields)
    assert got.status_code == 200
    assert got.json() == posted


def test_private_network_preflight_is_answered_for_allowed_origins(client):
    headers = {"Origin": EXTENSION_ORIGIN, "Access-Control-Request-Method": "POST",
               "Access-Control-Request-Headers": "content-type", "Access-Control-Request-Private-Network": "true"}
    allowed = client.options("/v2/check", headers=headers)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-private-network"] == "true"
    assert allowed.headers["access-control-allow-origin"] == EXTENSION_ORIGIN
    stranger = client.options("/v1/check", headers=headers | {"Origin": "https://evil.example.com"})
    assert stranger.status_code == 400
    assert "access-control-allow-origin" not in stranger.headers


def test_drafts_in_query_strings_and_allow_lists_stay_out_of_the_logs(server, client):
    """GET /v2/check puts the draft in the URL, and `allow` words are pieces of drafts: neither may
    reach anything the server writes."""
    draft = "Zebulon Quartermaine of Wexford Lane came in last night at 3am."
    assert client.get("/v2/check", params={"text": draft, "language": "en-US"}).status_code == 200
    assert client.get("/v2/check", params={"text": draft, "language": "Quartermaine"}).status_code == 422
    assert client.post("/v1/check", json={"text": draft, "allow": ["Zebulon Quartermaine"]}).status_code == 200
    assert client.post("/v1/check", json={"text": draft, "allow": ["Wexford" * 40]}).status_code == 422
    assert client.get("/rules/Quartermaine").status_code == 404
    output = server.output()
    assert "GET /v2/check 200" in output
    for secret in ("Zebulon", "Quartermaine", "Wexford"):
        assert secret not in output
