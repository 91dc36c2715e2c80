"""Words that are not names or places: days, months and holidays, and Markdown or HTML link syntax.

The entity recognizer and the title-case patterns read "Tuesday", "March" and "Easter" as a place or a
person, and link syntax as words; these tests pin that they never become a patient's name or place.
"""

from __future__ import annotations

import re

import pytest

from checker.markup import comment_spans, mask_markup

NAME_OR_PLACE = {"PERSON", "LOCATION", "RELATIVE"}

CALENDAR_DRAFTS = [
    "A patient came in Tuesday with chest pain.",
    "Admitted a patient in March with pneumonia, and another in December.",
    "The patient wanted to be home by Easter.",
    "Patient told me about Easter with his grandkids.",
    "The patient was admitted near Halloween after a fall.",
    "Saw a patient Monday; the patient Christmas party is on Friday.",
    "My patient came in from Thanksgiving dinner with a bone stuck in her throat.",
    "The patient in bed 3 was admitted in May and goes home in June.",
]


@pytest.mark.parametrize("draft", CALENDAR_DRAFTS)
def test_days_months_and_holidays_are_never_a_name_or_a_place(checker, draft):
    wrong = [(f.rule, f.text) for f in checker.explain(draft) if f.type in NAME_OR_PLACE]
    assert wrong == []


def test_a_real_place_next_to_a_weekday_is_still_found(checker):
    found = {f.text for f in checker.check("A patient came in from Ashby Falls on Monday.").findings if f.type == "LOCATION"}
    assert found == {"from Ashby Falls"}


# -- markup ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, masked", [
    ('x [Read more](https://a.example/c "T") y', 'x  Read more (https://a.example/c    ) y'),
    ("![alt](<img.png>)", "  alt ( img.png )"),
    ('<a href="https://e.example">Dana</a> <!-- note -->', '         https://e.example  Dana                  '),
    ("[t][1]\n[1]: https://r.example", " t    \n     https://r.example"),
    ("<https://a.example>", " https://a.example "),
    ("a < b and c > d, [sic] (see above)", "a < b and c > d, [sic] (see above)"),
    ("no markup at all", "no markup at all"),
])
def test_markup_reads_as_plain_text_and_keeps_every_offset(text, masked):
    assert mask_markup(text) == masked
    assert len(mask_markup(text)) == len(text)


def test_comments_are_found_in_order_and_an_unclosed_one_is_not_a_comment():
    text = "a <!-- one --> b <!--two--> c <!-- open"
    assert [(text[s:e], inner) for s, e, inner in comment_spans(text)] == [("<!-- one -->", " one "), ("<!--two-->", "two")]


LINK_DRAFTS = [
    "My patient had DKA. See [Jordan's Guide](https://blog.example/jordan).",
    "A patient with DKA taught me a lot. [Lessons Learned](/posts/lessons-learned)",
    "Admitted a patient with sepsis. [Read More](https://example.org/sepsis) about fluids.",
    "Admitted a patient with sepsis. [Dana Whitlock](https://social.example/danawhit) wrote a great thread.",
    'Had a patient with DKA today. See <a href="https://example.org/dka">the guide</a>.',
    "Had a patient with DKA today. [Reference][1]\n\n[1]: https://example.org/ref",
]


@pytest.mark.parametrize("draft", LINK_DRAFTS)
def test_link_syntax_and_link_targets_are_never_part_of_a_name(checker, draft):
    targets = [m.span() for m in re.finditer(r"\]\([^)]*\)|\]\[[^\]]*\]|\[\d\]:[^\n]*|<[^>]*>", draft)]
    for finding in checker.explain(draft):
        if finding.type in NAME_OR_PLACE:
            assert not re.search(r"[\[\]()<>]", finding.text), finding
            assert not any(finding.start < end and start < finding.end for start, end in targets), finding


def test_a_name_in_link_text_is_still_a_name(checker):
    draft = "Read [Maria Gomez's story](https://fundraise.example.com/maria) and give if you can; she was my patient."
    names = {f.text for f in checker.check(draft).findings if f.type == "PERSON"}
    assert any("Maria Gomez" in name for name in names)
    # the fundraiser link is an identifier too
    assert any(f.category == "identifier" and "fundraise.example.com" in f.text for f in checker.check(draft).findings)


def test_the_report_quotes_the_draft_as_written(checker):
    draft = "Admitted [Mr. Quill](https://obits.example/quill) last night."
    report = checker.check(draft)
    for finding in report.findings:
        assert finding.text == draft[finding.start:finding.end]
    assert "](" in report.redacted  # markup is left alone by redaction (the obituary link itself is an identifier)
