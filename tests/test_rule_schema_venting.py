"""Schema errors for what the venting rules added: `sentiment` patterns and `not_near` context."""

from __future__ import annotations

import pytest

from checker.errors import RuleFileError
from checker.rules import load_rule_files

RULE = """
lexicons:
  targets_here: [admin]
rules:
  - id: test-rule
    category: venting
    type: COMPLAINT
    severity: warning
    message: m
    why: w
    instead: i
    reference: r
    patterns:
      {patterns}
    context:
      {context}
    examples: {{flag: [x], pass: [y]}}
"""


def load(tmp_path, patterns: str, context: str = "{}"):
    path = tmp_path / "rules.yaml"
    path.write_text(RULE.format(patterns=patterns, context=context), encoding="utf-8")
    return load_rule_files([path])


def test_a_valid_sentiment_pattern_loads(tmp_path):
    rule = load(tmp_path, 'sentiment: {max_compound: -0.4, targets: ["@targets_here"]}').rules[0]
    assert rule.sentiment.max_compound == -0.4 and rule.sentiment.targets == ("targets_here",)


@pytest.mark.parametrize("patterns, field", [
    ("sentiment: {max_compound: 0.2, targets: ['@targets_here']}", "patterns.sentiment.max_compound"),
    ("sentiment: {max_compound: true, targets: ['@targets_here']}", "patterns.sentiment.max_compound"),
    ("sentiment: {max_compound: -0.4, targets: [admin]}", "patterns.sentiment.targets"),
    ("sentiment: {max_compound: -0.4, targets: ['@nowhere']}", "patterns.sentiment.targets"),
    ("sentiment: {max_compound: -0.4, targets: ['@targets_here'], mood: sad}", "patterns.sentiment.mood"),
    ("sentiment: -0.4", "patterns.sentiment"),
])
def test_broken_sentiment_patterns_name_file_rule_and_field(tmp_path, patterns, field):
    with pytest.raises(RuleFileError) as error:
        load(tmp_path, patterns)
    message = str(error.value)
    assert "rules.yaml" in message and "test-rule" in message and field in message


def test_not_near_must_name_a_known_lexicon(tmp_path):
    loaded = load(tmp_path, "phrases: [x]", 'not_near: ["@targets_here"]').rules[0].context
    assert loaded.clears == ({"words": {"in": ["@targets_here"], "scope": "sentence"}},)
    with pytest.raises(RuleFileError, match="test-rule.*unknown lexicon '@nowhere'"):
        load(tmp_path, "phrases: [x]", 'not_near: ["@nowhere"]')
