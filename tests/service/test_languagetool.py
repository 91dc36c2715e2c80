"""LanguageTool compatibility: a real LanguageTool client from PyPI talks to the real server, and the
underlines it would draw land on the flagged words even after emoji (UTF-16 offsets)."""

from __future__ import annotations

import json

import language_tool_python
import pytest

from postcheck_service.languagetool import AnnotatedText, Utf16Offsets, _sentence

EMOJI_DRAFT = "🎉🙌 Great shift! 👩🏽‍⚕️ Then Mrs. Halvorsen, 84yo, came in last night at 3am."


def test_languagetool_client_round_trip_underlines_the_right_words(server, checker, no_local_languagetool):
    with language_tool_python.LanguageTool("en-US", remote_server=server.url) as tool:
        matches = tool.check(EMOJI_DRAFT)
    expected = [(f.rule, f.text) for f in checker.check(EMOJI_DRAFT).counted]
    # The client converts UTF-16 offsets back to Python indices; the words must be the flagged ones.
    underlined = [(m.rule_id, EMOJI_DRAFT[m.offset:m.offset + m.error_length]) for m in matches]
    assert underlined == expected
    assert ("titled-name", "Mrs. Halvorsen") in underlined
    assert all(m.category in {"IDENTIFIER", "TIMELINE"} and m.message for m in matches)


def test_offsets_are_utf16_code_units(client):
    text = "😀 Mrs. Halvorsen came in."
    match = client.post("/v2/check", data={"text": text, "language": "auto"}).json()["matches"][0]
    assert match["offset"] == 3  # the emoji is two UTF-16 units, one Python character
    assert _utf16_slice(text, match["offset"], match["length"]) == "Mrs. Halvorsen"
    context = match["context"]
    assert _utf16_slice(context["text"], context["offset"], context["length"]) == "Mrs. Halvorsen"
    assert match["sentence"] == text


def _utf16_slice(text: str, offset: int, length: int) -> str:
    """What JavaScript's text.substr(offset, length) gives."""
    return text.encode("utf-16-le")[2 * offset:2 * (offset + length)].decode("utf-16-le")


def test_response_has_languagetool_shape(client):
    body = client.post("/v2/check", data={"text": "Mrs. Halvorsen is 84yo.", "language": "en-US"}).json()
    assert body["language"]["code"] == "en-US" and body["software"]["apiVersion"] == 1
    match = body["matches"][0]
    assert set(match) >= {"message", "shortMessage", "offset", "length", "replacements", "context",
                          "sentence", "rule"}
    assert set(match["rule"]) >= {"id", "description", "issueType", "category"}
    assert set(match["rule"]["category"]) == {"id", "name"}
    assert set(match["context"]) == {"text", "offset", "length"}


def test_languages_lists_english_variants(client):
    languages = client.get("/v2/languages").json()
    assert {"name": "English (US)", "code": "en", "longCode": "en-US"} in languages
    assert all(entry["code"] == "en" for entry in languages)


def test_annotated_data_offsets_point_into_the_original_markup(client):
    pieces = [{"markup": "<p>"}, {"text": "Saw "}, {"markup": "<b>"}, {"text": "Mrs. Halvorsen"},
              {"markup": "</b>"}, {"markup": "<br/>", "interpretAs": "\n"}, {"text": "at 3am last night."}]
    original = "".join(p.get("text", p.get("markup")) for p in pieces)
    body = client.post("/v2/check", data={"data": json.dumps({"annotation": pieces}), "language": "en"}).json()
    spans = {m["rule"]["id"]: original[m["offset"]:m["offset"] + m["length"]] for m in body["matches"]}
    assert spans["titled-name"] == "Mrs. Halvorsen"


def test_disabled_rules_picky_level_and_blank_text(client):
    text = "Mrs. Halvorsen, a retired teacher, came in."  # occupation is an info note
    default = client.post("/v2/check", data={"text": text, "language": "en-US"}).json()["matches"]
    picky = client.post("/v2/check", data={"text": text, "language": "en-US", "level": "picky"}).json()["matches"]
    assert {m["rule"]["id"] for m in default} < {m["rule"]["id"] for m in picky}, "picky adds info notes"
    disabled = client.post("/v2/check", data={"text": text, "language": "en-US",
                                              "disabledRules": "titled-name,WHITESPACE_RULE"}).json()["matches"]
    assert "titled-name" not in {m["rule"]["id"] for m in disabled}
    for emptied in ({"text": "  "}, {"text": ""}, {}):  # a cleared field; form parsing drops "" entirely
        blank = client.post("/v2/check", data={**emptied, "language": "en-US"})
        assert blank.status_code == 200 and blank.json()["matches"] == []


NESTED = "[" * 10_000 + "]" * 10_000


@pytest.mark.parametrize("form, needle", [
    ({"text": "hello", "language": "de-DE"}, "English only"),
    ({"text": "hello"}, "language: field required"),
    ({"data": "{not json", "language": "en-US"}, "data must be JSON"),
    ({"data": '{"annotation": ' + NESTED + "}", "language": "en-US"}, "data must be JSON"),
    ({"data": NESTED, "language": "en-US"}, "data must be JSON"),
])
def test_bad_languagetool_requests_are_422(client, form, needle):
    response = client.post("/v2/check", data=form)
    assert response.status_code == 422
    assert needle in response.json()["message"]


def test_utf16_offsets_and_annotation_mapping():
    to_utf16 = Utf16Offsets("a😀b👍🏽c")
    assert [to_utf16(i) for i in range(6)] == [0, 1, 3, 4, 6, 8]
    annotated = AnnotatedText.from_data(json.dumps({"annotation": [
        {"text": "x "}, {"markup": "<img alt=pic>", "interpretAs": "P"}, {"text": " yz"}]}))
    assert annotated.plain == "x P yz"
    assert annotated.original == "x <img alt=pic> yz"
    assert annotated.original_span(4, 6) == (16, 18)  # "yz"
    assert annotated.original_span(2, 3) == (2, 15)  # the markup stands in for its interpretAs


def test_sentence_is_cut_at_punctuation_and_line_breaks():
    text = "First one. Second one here!\nThird line with Dr. Quill. Last."
    assert _sentence(text, text.index("Second"), text.index("Second") + 6) == "Second one here!"
    assert _sentence(text, text.index("Dr."), text.index("Dr.") + 2) == "Third line with Dr. Quill."
    assert _sentence(text, 0, 5) == "First one."
    assert _sentence(text, 4, 14) == "First one. Second one here!"  # a break inside the span is ignored
