"""`Checker.check(..., disable=...)` turns rules off for one call exactly as building a Checker without
them would; the HTTP service relies on it for its per-request `disable`."""

from __future__ import annotations

import pytest

from checker import Checker, InputError

DRAFTS = [
    "Saw an 82yo man from Millbrook last night at 3am; Mrs. Tanaka was his neighbour.",
    "Mr. Oyelaran, 67, went home yesterday at noon.",
    "Teaching rounds on heart failure were great this week.",
]
DISABLED = ("age-exact", "titled-name")


@pytest.fixture(scope="module")
def checker_without_rules():
    return Checker(disable=DISABLED)


@pytest.mark.parametrize("text", DRAFTS)
def test_per_call_disable_equals_a_checker_built_without_the_rules(checker, checker_without_rules, text):
    assert checker.check(text, disable=DISABLED) == checker_without_rules.check(text)


def test_per_call_disable_applies_to_streams_too(checker, checker_without_rules):
    streamed = [report for _, report in checker.check_stream(enumerate(DRAFTS), disable=DISABLED)]
    assert streamed == [checker_without_rules.check(text) for text in DRAFTS]


def test_disabling_changes_the_report_and_leaves_the_checker_unchanged(checker):
    text = DRAFTS[1]
    assert {"titled-name"} <= {f.rule for f in checker.check(text).findings}
    assert "titled-name" not in {f.rule for f in checker.check(text, disable=["titled-name"]).findings}
    assert {"titled-name"} <= {f.rule for f in checker.check(text).findings}


def test_unknown_rule_id_is_an_input_error(checker):
    with pytest.raises(InputError, match="cannot disable unknown rule id"):
        checker.check(DRAFTS[0], disable=["no-such-rule"])
