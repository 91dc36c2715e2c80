"""Advice that fits the case: each finding's direct rewrite, the suggestion that names it, and the safer
draft. Applying a rewrite must never leave a draft that postcheck flags at that place."""

from __future__ import annotations

import pytest

from checker.advice import AgeBand, fill_instead, parse_age_bands, safer_draft, template_problem
from checker.report import Finding

# (draft, flagged span, its rewrite)
REWRITES = [
    ("Admitted a patient aged 82 with a hip fracture.", "aged 82", "in their 80s"),
    ("Admitted an 82yo man with a hip fracture.", "82yo", "80-something"),
    ("Admitted a 64yo with sepsis.", "64yo", "patient in their 60s"),
    ("An 82yo came in with a hip fracture.", "82yo", "80-something"),
    ("My pt (F, 52) asked me not to tell her kids about the scan.", "(F, 52)", "in their 50s"),
    ("Wild night: 91yo retired schoolteacher came in after a fall.", "91yo", "90-plus"),
    ("Discharged a 97yo who still drives herself to church.", "97yo", "patient over 90"),
    ("She's in her late 90s and sharper than my whole team, our patient of the year.", "in her late 90s", "over 90"),
    ("Happy 101st birthday to the sweetest patient on our floor!", "Happy 101st birthday", "Happy birthday"),
    ("Our patient, an 18yo with asthma, came back again.", "18yo", "adolescent"),
    ("Admitted a 15yo girl with appendicitis.", "15yo", "teenage"),
    ("Admitted a 3-month-old with a fever; never a quick visit.", "3-month-old", "baby"),
    ("A patient came in from Ashby Falls after a fall.", "from Ashby Falls", "from [a town]"),
    ("Admitted a farmer with a fibrodysplasia ossificans progressiva flare.", "fibrodysplasia ossificans progressiva", "[rare condition]"),
    ("Admitted a teenager with fibrodysplasia ossificans progressiva this week.", "fibrodysplasia ossificans progressiva", "[a rare condition]"),
    ("The patient lives in a tiny town outside Harlowe and drove in.", "town outside Harlowe", "[town]"),
    ("Pt's daughter Marisol stayed every night on a cot.", "daughter Marisol", "daughter"),
    ("Room 414 pressed the call bell 40 times before noon.", "Room 414", "Room [number]"),
    ("Mrs. Abernathy brought cookies for the whole unit again.", "Mrs. Abernathy", "[A patient]"),
    ("Saturday night a kid came in after swallowing a magnet.", "Saturday night", "Recently"),
    ("A patient came in Tuesday with chest pain.", "Tuesday", "recently"),
    ("Admitted a retired firefighter with smoke-lung COPD.", "retired firefighter", "patient"),
    ("The baby came in with RSV; her mother is 15 and terrified.", "mother is 15", "mother is young"),
]


@pytest.mark.parametrize("draft, span, rewrite", REWRITES)
def test_each_finding_has_a_rewrite_that_fits_where_it_stands(checker, draft, span, rewrite):
    found = {f.text: f.rewrite for f in checker.check(draft).findings}
    assert found.get(span) == rewrite, found


def test_the_advice_names_this_case_s_own_rounding(checker):
    finding = next(f for f in checker.check("Admitted an 82yo man with a hip fracture.").findings if f.rule == "age-exact")
    assert '"80-something"' in finding.suggestion and "70s" not in finding.suggestion
    older = next(f for f in checker.check("Discharged a 97yo who drives.").findings if f.rule == "age-over-89")
    assert '"patient over 90"' in older.suggestion and "in their 90s" not in older.suggestion


@pytest.mark.parametrize("draft", [
    "Admitted a patient in their 80s with a hip fracture.",
    "Admitted a patient in her 80s with a hip fracture.",
    "Admitted an 80-something man with a hip fracture.",
    "A patient in his 40s came in with his third PE this year.",
])
def test_the_rounded_forms_postcheck_suggests_are_never_flagged_by_themselves(checker, draft):
    assert checker.check(draft).findings == ()


# Drafts written for these tests, each with several findings that have rewrites.
STORIES = [
    "Wild night: 91yo retired schoolteacher from Ashby Falls came in last night at 2am after a fall, "
    "his daughter Renata drove him in. Room 12, stable now.",
    "82yo M found down last night at 3am by his wife Linda; Mrs. Okafor next door called 911.",
    "Admitted a 64yo from Harlowe this morning with a fibrodysplasia ossificans progressiva flare.",
    "A 3-month-old with RSV came in Tuesday; her mother is 15 and the family lives in a tiny town outside Brackwell.",
    "Discharged a 97yo today from Willowbend Manor, the oldest patient on 7 East.",
    "Pt's son Teodor called from 312-555-0142 about his dad, a retired pilot in bed 9.",
    "Our patient, an 18yo from Lincoln Park High, came in on Christmas Eve with a concussion.",
]


def _apply(text: str, finding: Finding) -> tuple[str, int, int]:
    new = text[:finding.start] + finding.rewrite + text[finding.end:]
    return new, finding.start, finding.start + len(finding.rewrite)


@pytest.mark.parametrize("draft", STORIES)
def test_applying_a_finding_s_rewrite_leaves_no_finding_there(checker, draft):
    findings = [f for f in checker.check(draft).findings if f.rewrite is not None]
    assert len(findings) >= 2
    for finding in findings:
        rewritten, start, end = _apply(draft, finding)
        left = [(f.rule, f.text) for f in checker.check(rewritten).findings if f.start < max(end, start + 1) and start < f.end]
        assert left == [], (finding.rule, finding.text, finding.rewrite)


@pytest.mark.parametrize("draft", STORIES)
def test_the_safer_draft_has_no_identifier_or_timeline_left(checker, draft):
    report = checker.check(draft)
    assert report.redacted != draft
    again = checker.check(report.redacted)
    assert [(f.rule, f.text) for f in again.findings if f.category in ("identifier", "timeline")] == []


def test_the_safer_draft_reads_as_english(checker):
    report = checker.check("A 64yo came in Tuesday with a fibrodysplasia ossificans progressiva flare, "
                           "from Ashby Falls.")
    assert "[a [" not in report.redacted and "a [a " not in report.redacted
    assert "came in recently with a [rare condition] flare" in report.redacted
    assert report.redacted.startswith("A patient in their 60s came in")


def test_venting_has_no_rewrite_only_the_author_can_rewrite_it(checker):
    report = checker.check("Our attending is a useless idiot and admin is a joke.")
    assert report.findings and all(f.rewrite is None for f in report.findings if f.category == "venting")


# -- the pieces ------------------------------------------------------------------------------------------

def finding(start: int, end: int, rewrite: str | None) -> Finding:
    return Finding(rule="r", category="identifier", type="T", start=start, end=end, start_utf16=start,
                   end_utf16=end, text="", severity="warning", message="", suggestion="", why="", reference="",
                   rewrite=rewrite)


def test_an_empty_rewrite_takes_one_space_with_it():
    text = "My patient Tomasz kept telling jokes."
    assert safer_draft(text, [finding(11, 17, "")]) == "My patient kept telling jokes."
    assert safer_draft("Seen by Tomasz.", [finding(8, 14, "")]) == "Seen by."
    assert safer_draft(text, [finding(11, 17, None)]) == text


def test_of_overlapping_rewrites_the_first_applies():
    text = "abc def ghi"
    assert safer_draft(text, [finding(8, 11, "Z"), finding(2, 6, "Y"), finding(0, 3, "X")]) == "X def Z"


def test_instead_names_the_rewrite_or_drops_its_parenthesis():
    template = 'Round it (to "{rewrite}") or drop it.'
    assert fill_instead(template, "in their 80s") == 'Round it (to "in their 80s") or drop it.'
    assert fill_instead(template, None) == "Round it or drop it."
    assert fill_instead("Drop it.", None) == "Drop it."


def test_templates_and_age_bands_are_checked_at_load():
    assert template_problem("{prep} [a town]", frozenset({"prep"})) is None
    assert "unknown slot '{town}'" in template_problem("{town}", frozenset({"prep"}))
    assert parse_age_bands([{"below": 20, "alone": "a teenager"}]) == (AgeBand(20, None, None, "a teenager"),)
    for bad, problem in [([], "list"), ([{"alone": "x"}], "'below'"), ([{"below": 9, "sideways": "x"}], "unknown key"),
                         ([{"below": 90, "alone": "{decade}s"}], "unknown slot"),
                         ([{"below": 90}, {"below": 20}], "lowest first")]:
        with pytest.raises(ValueError, match=problem):
            parse_age_bands(bad)
