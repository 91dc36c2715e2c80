"""Properties of every report, over arbitrary Unicode drafts (hypothesis): a valid report or a one-line
InputError; exact offsets; the same answer twice; and no flagged identifier left in the safer draft."""

from __future__ import annotations

import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.errors import InputError

# Pieces that make the detectors fire, mixed with arbitrary text so the combinations are new each run.
PIECES = [
    "Saw an 82yo man", " from Millbrook", " last night at 3am", " in room 12B.", " Mrs. Quillfeather",
    " Quillfeather", " his wife Renata", " called 555-201-7788", " MRN 00482913", " @jenny_runs",
    " our attending is useless", " frequent flyer", " 🙄", " Dr. Lee", " thanks to the nurses",
    " Parkinson's", " the patient", " pt", " on Christmas Eve", "\n", " 91-year-old", " lol",
]
DRAFTS = st.lists(
    st.one_of(st.sampled_from(PIECES), st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=12)),
    min_size=1, max_size=25,
).map("".join)
PLACEHOLDER = re.compile(r"\[[^\]]*\]")


def no_occurrence(needle: str, haystack: str) -> bool:
    """`needle` does not occur in `haystack` as whole words (any case)."""
    pattern = r"(?<![\w])" + re.escape(needle.lower()) + r"(?![\w])"
    return re.search(pattern, haystack.lower()) is None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=DRAFTS)
def test_every_report_is_valid_exact_deterministic_and_redacted(checker, text):
    try:
        report = checker.check(text)
    except InputError as error:
        assert "\n" not in str(error) and not text.strip()  # only an empty draft is refused at this size
        return
    assert report.verdict == ("block" if any(f.severity == "error" for f in report.findings)
                              else "review" if any(f.severity == "warning" for f in report.findings) else "ok")
    for finding in report.findings:
        assert 0 <= finding.start < finding.end <= len(text)
        assert text[finding.start:finding.end] == finding.text
    assert checker.check(text).to_dict() == report.to_dict()
    json.dumps(report.to_dict())
    safer = PLACEHOLDER.sub(" ", report.redacted)
    for finding in report.findings:
        if finding.category == "identifier":
            assert no_occurrence(finding.text.strip(), safer), finding.rule


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(DRAFTS, min_size=1, max_size=6))
def test_a_batch_gives_each_draft_the_report_it_gets_alone(checker, texts):
    batched = list(checker.check_stream(enumerate(texts)))
    assert [key for key, _ in batched] == list(range(len(texts)))
    for (key, outcome), text in zip(batched, texts):
        if isinstance(outcome, InputError):
            assert not text.strip()
        else:
            assert outcome.to_dict() == checker.check(text).to_dict()
