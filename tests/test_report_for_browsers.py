"""What browser clients need from a report: UTF-16 offsets next to the code-point ones, a drop-in
`replacement` where a finding has one, and words allowed for one check only ("ignore this word")."""

from __future__ import annotations

import pytest

from checker import InputError
from checker.report import Finding, merge_overlaps

EMOJI_DRAFTS = [
    "🎉🙌 Great shift! Then Mrs. Halvorsen, 84yo, came in last night at 3am.",
    "👩🏽‍⚕️👨🏻‍⚕️ 82yo M found down by his wife Linda 😢 at 3am",
    "𝓜𝓻𝓼. fancy letters first, then Mr. Brandt, 77, from Lakeview this morning 🙄 our admin is useless",
]


def utf16_slice(text: str, start: int, end: int) -> str:
    """What JavaScript's text.slice(start, end) gives."""
    return text.encode("utf-16-le")[2 * start:2 * end].decode("utf-16-le")


@pytest.mark.parametrize("text", EMOJI_DRAFTS)
def test_utf16_offsets_slice_the_flagged_words_as_javascript_would(checker, text):
    findings = checker.check(text).findings
    assert findings
    for finding in findings:
        assert utf16_slice(text, finding.start_utf16, finding.end_utf16) == finding.text == text[finding.start:finding.end]
    assert any(f.start_utf16 > f.start for f in findings), "astral characters come before a finding"


def test_utf16_offsets_equal_code_points_without_astral_characters(checker):
    report = checker.check("Admitted Mrs. Halvorsen, 84yo, naïve café visit last night at 3am.")
    assert report.findings
    assert all((f.start_utf16, f.end_utf16) == (f.start, f.end) for f in report.findings)


def test_merged_spans_get_their_utf16_offsets_recomputed():
    text = "😀 Dr said Halvorsen Smith came"
    common = dict(category="identifier", type="PERSON", severity="warning", message="m", suggestion="s",
                  why="w", reference="r")
    first = Finding(rule="a", start=10, end=19, start_utf16=11, end_utf16=20, text="Halvorsen", **common)
    second = Finding(rule="b", start=10, end=25, start_utf16=11, end_utf16=26, text="Halvorsen Smith",
                     **common | {"severity": "error"})
    third = Finding(rule="c", start=20, end=30, start_utf16=21, end_utf16=31, text="Smith came", **common)
    (merged,) = merge_overlaps(text, [first, second, third])
    assert (merged.rule, merged.text) == ("b", "Halvorsen Smith came")
    assert utf16_slice(text, merged.start_utf16, merged.end_utf16) == merged.text


def test_a_sentence_wide_finding_gives_way_to_a_word_finding_of_its_category():
    text = "Another frequent flyer in bed 12 again. Thanks to the team."
    common = dict(type="T", severity="warning", message="m", suggestion="s", why="w", reference="r")

    def finding(rule, category, start, end):
        return Finding(rule=rule, category=category, start=start, end=end, start_utf16=start, end_utf16=end,
                       text=text[start:end], **common)

    sentence, slang, bed = finding("wide", "venting", 0, 39), finding("slang", "venting", 8, 22), \
        finding("room", "identifier", 26, 32)
    later = finding("wide", "venting", 40, 59)
    kept = merge_overlaps(text, [sentence, slang, bed, later], wide={"wide"})
    assert [(f.rule, f.text) for f in kept] == [("slang", "frequent flyer"), ("room", "bed 12"), ("wide", "Thanks to the team.")]
    # without the wide rule named, the sentence swallows the word, as any two overlapping findings merge
    assert [(f.rule, f.text) for f in merge_overlaps(text, [sentence, slang])] == [("wide", text[0:39])]


def test_allow_drops_findings_within_the_words_for_this_check_only(checker):
    text = "Then Mrs. Halvorsen, 84yo, came in last night at 3am with her husband Bertram."
    plain = checker.check(text)
    assert "Mrs. Halvorsen" in {f.text for f in plain.findings}
    allowed = checker.check(text, allow=["mrs. HALVORSEN"])
    assert "Mrs. Halvorsen" not in {f.text for f in allowed.findings}
    assert not any("Halvorsen" in f.text for f in allowed.findings), "no part of it is flagged either"
    assert [f for f in plain.findings if f.text != "Mrs. Halvorsen"] == list(allowed.findings)
    assert checker.check(text).to_dict() == plain.to_dict(), "nothing stays allowed after the call"


def test_allow_takes_phrases_and_ignores_blank_words(checker):
    text = "82yo M found down by his wife Linda at 3am"
    flagged = {f.text for f in checker.check(text).findings}
    assert {"wife Linda", "82yo"} <= flagged
    report = checker.check(text, allow=["wife linda", "  ", "82YO"])
    assert {f.text for f in report.findings} == flagged - {"wife Linda", "82yo"}
    with pytest.raises(InputError, match="allow word 2 must be text"):
        checker.check(text, allow=["fine", 7])


def test_allow_applies_to_every_draft_of_a_stream(checker):
    drafts = [(1, "Saw Mrs. Halvorsen today."), (2, "   "), (3, "Mrs. Halvorsen and Mr. Brandt, 77.")]
    streamed = dict(checker.check_stream(drafts, allow=["Mrs. Halvorsen"]))
    assert isinstance(streamed[2], InputError)
    for key in (1, 3):
        assert streamed[key].to_dict() == checker.check(dict(drafts)[key], allow=["Mrs. Halvorsen"]).to_dict()
        assert "Mrs. Halvorsen" not in {f.text for f in streamed[key].findings}
    assert "Mr. Brandt" in {f.text for f in streamed[3].findings}
