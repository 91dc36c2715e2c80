"""Inline markers in a blog post's source turn rules off for a stretch of it, in the library itself."""

from __future__ import annotations

import pytest

from checker import InputError
from checker.markers import read_markers

KNOWN = {"age-exact", "relative-time", "weekday"}


def test_a_marker_applies_from_where_it_stands_until_it_is_undone():
    text = "a <!-- postcheck-disable age-exact, weekday --> b <!-- postcheck-enable age-exact --> c"
    markers = read_markers(text, KNOWN)
    b, c = text.index(" b "), text.index(" c")
    assert markers.allows("age-exact", 0) and markers.allows("weekday", 0)
    assert not markers.allows("age-exact", b) and not markers.allows("weekday", b)
    assert markers.allows("age-exact", c) and not markers.allows("weekday", c)
    assert markers.allows("relative-time", b)


def test_a_bare_disable_turns_everything_off_and_single_rules_can_come_back():
    text = "a <!-- postcheck-disable --> b <!-- postcheck-enable weekday --> c <!-- postcheck-enable --> d"
    markers = read_markers(text, KNOWN)
    at = {word: text.index(f" {word}") for word in "bcd"}
    assert not markers.allows("age-exact", at["b"]) and not markers.allows("weekday", at["b"])
    assert markers.allows("weekday", at["c"]) and not markers.allows("age-exact", at["c"])
    assert markers.allows("age-exact", at["d"])


def test_other_comments_and_marker_lookalikes_in_prose_change_nothing():
    text = "<!-- a note --> I wrote postcheck-disable age-exact in my notes."
    assert read_markers(text, KNOWN).allows("age-exact", len(text) - 1)


def test_an_unknown_rule_id_names_the_line_but_not_the_marker():
    with pytest.raises(InputError, match=r"^line 2: postcheck-disable names 1 unknown rule id") as error:
        read_markers("first line\n<!-- postcheck-disable jsmith -->", KNOWN)
    assert "jsmith" not in str(error.value)


POST = """# A night I won't forget

<!-- postcheck-disable age-exact -->
We teach that a 64yo with chest pain gets an ECG in ten minutes.
<!-- postcheck-enable age-exact -->

Admitted a 71yo last night with chest pain.
"""


def test_the_checker_honours_markers_for_check_and_streams(checker):
    ages = [f.text for f in checker.check(POST).findings if f.rule == "age-exact"]
    assert ages == ["71yo"]
    streamed = dict(checker.check_stream([("post", POST), ("bad", "x <!-- postcheck-disable nope --> y")]))
    assert [f.text for f in streamed["post"].findings if f.rule == "age-exact"] == ["71yo"]
    assert isinstance(streamed["bad"], InputError)  # in its place; the stream goes on


def test_a_marker_may_name_a_rule_the_checker_has_turned_off(checker):
    report = checker.check("<!-- postcheck-disable age-exact -->Admitted a 71yo.", disable=["age-exact"])
    assert not any(f.rule == "age-exact" for f in report.findings)
