"""Every rule's own examples: each `flag` sentence must fire the rule, each `pass` sentence must not.

Like semgrep's rule tests, this makes a rule impossible to land untested, and a regression names the
rule and the example that broke.
"""

from __future__ import annotations

import pytest

from checker.rules import load_rules

RULES = load_rules().rules
FLAG_CASES = [pytest.param(rule.id, text, id=f"{rule.id}-flag-{i}") for rule in RULES for i, text in enumerate(rule.examples_flag)]
PASS_CASES = [pytest.param(rule.id, text, id=f"{rule.id}-pass-{i}") for rule in RULES for i, text in enumerate(rule.examples_pass)]


@pytest.mark.parametrize("rule_id, text", FLAG_CASES)
def test_flag_example_fires_its_rule(checker, rule_id, text):
    fired = {finding.rule for finding in checker.explain(text)}
    assert rule_id in fired, f"{rule_id} did not fire; fired: {sorted(fired)}"


@pytest.mark.parametrize("rule_id, text", PASS_CASES)
def test_pass_example_does_not_fire_its_rule(checker, rule_id, text):
    fired = {finding.rule for finding in checker.explain(text)}
    assert rule_id not in fired


def test_every_rule_has_examples_both_ways():
    assert RULES, "no rules loaded"
    for rule in RULES:
        assert rule.examples_flag and rule.examples_pass, rule.id
