"""Every rule's own examples: each `flag` sentence must fire the rule where it is marked, each `pass`
sentence must not fire it.

Like semgrep's `# ruleid:` lines and Vale's file:line:col expectations, a flag example marks the words
the rule must fire on ("Admitted [[Mrs. Delgado]] overnight"): every mark must be hit and every match
of the rule must hit a mark, so a rule that fires on the wrong words fails its own test.
"""

from __future__ import annotations

import pytest

from checker.rules import load_rules

RULES = load_rules().rules
FLAG_CASES = [pytest.param(rule.id, text, marks, id=f"{rule.id}-flag-{i}") for rule in RULES
              for i, (text, marks) in enumerate(zip(rule.examples_flag, rule.examples_flag_marks))]
PASS_CASES = [pytest.param(rule.id, text, id=f"{rule.id}-pass-{i}") for rule in RULES for i, text in enumerate(rule.examples_pass)]


def overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


@pytest.mark.parametrize("rule_id, text, marks", FLAG_CASES)
def test_flag_example_fires_its_rule_where_marked(checker, rule_id, text, marks):
    found = [(f.start, f.end) for f in checker.explain(text) if f.rule == rule_id]
    assert found, f"{rule_id} did not fire"
    for mark in marks:
        assert any(overlaps(mark, span) for span in found), f"{rule_id} missed [[{text[mark[0]:mark[1]]}]]"
    for span in found:
        assert any(overlaps(mark, span) for mark in marks), f"{rule_id} fired on unmarked '{text[span[0]:span[1]]}'"


@pytest.mark.parametrize("rule_id, text", PASS_CASES)
def test_pass_example_does_not_fire_its_rule(checker, rule_id, text):
    fired = {finding.rule for finding in checker.explain(text)}
    assert rule_id not in fired


def test_every_rule_has_examples_both_ways_and_marks_where_it_fires():
    assert RULES, "no rules loaded"
    for rule in RULES:
        assert rule.examples_flag and rule.examples_pass, rule.id
        assert all(rule.examples_flag_marks), f"{rule.id}: mark the flagged words of every flag example"
