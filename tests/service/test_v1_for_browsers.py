"""/v1 for JavaScript clients (the paste page, the extension): UTF-16 offsets on every finding, and
words allowed for one request ("ignore this word"), in single and batch checks."""

from __future__ import annotations

import pytest

EMOJI_DRAFT = "🎉🙌 Then Mrs. Halvorsen, 84yo, came in last night at 3am."


def utf16_slice(text: str, start: int, end: int) -> str:
    return text.encode("utf-16-le")[2 * start:2 * end].decode("utf-16-le")


def test_findings_carry_utf16_offsets_and_rewrites(client, checker):
    body = client.post("/v1/check", json={"text": EMOJI_DRAFT}).json()
    assert body == checker.check(EMOJI_DRAFT).to_dict()
    for finding in body["findings"]:
        assert utf16_slice(EMOJI_DRAFT, finding["start_utf16"], finding["end_utf16"]) == finding["text"]
    age = next(f for f in body["findings"] if f["rule"] == "age-exact")
    assert age["start_utf16"] - age["start"] == 2 and age["rewrite"]


def test_allow_is_per_request_in_check_and_batch(client, checker):
    allowed = client.post("/v1/check", json={"text": EMOJI_DRAFT, "allow": ["Mrs. Halvorsen"]}).json()
    assert allowed == checker.check(EMOJI_DRAFT, allow=["Mrs. Halvorsen"]).to_dict()
    assert "Mrs. Halvorsen" not in {f["text"] for f in allowed["findings"]}
    assert "Mrs. Halvorsen" in {f["text"] for f in client.post("/v1/check", json={"text": EMOJI_DRAFT}).json()["findings"]}
    batch = client.post("/v1/check/batch", json={"drafts": [{"text": EMOJI_DRAFT}], "allow": ["mrs. halvorsen"]}).json()
    assert batch["results"][0]["report"] == allowed


@pytest.mark.parametrize("allow, needle", [
    ("Mrs. Halvorsen", "allow: Input should be a valid list"),
    ([""], "allow.0: String should have at least 1 character"),
    (["x" * 201], "allow.0: String should have at most 200 characters"),
    (["w"] * 201, "allow: List should have at most 200 items"),
])
def test_bad_allow_lists_are_422_without_echoing_them(client, allow, needle):
    response = client.post("/v1/check", json={"text": EMOJI_DRAFT, "allow": allow})
    assert response.status_code == 422
    assert needle in response.json()["message"]
    assert "Halvorsen" not in response.text
