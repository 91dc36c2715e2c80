"""Every hostile draft and pack in bench/hostile.py is answered: a valid report or a one-line error.

Timing against the documented limits is the benchmark's job (`python -m bench.adversarial`); here a
check must merely come back, with exact offsets, and a pack must load or be refused in one line.
"""

from __future__ import annotations

import pytest

from bench.hostile import LIMIT, PACK_RULE, PACKS, SHAPES, TWEET
from checker import Checker
from checker.errors import InputError, RuleFileError


def assert_valid(report, text: str) -> None:
    for finding in report.findings:
        assert 0 <= finding.start < finding.end <= len(text)
        assert text[finding.start:finding.end] == finding.text
    assert report.verdict in ("ok", "review", "block")


@pytest.mark.parametrize("size", [TWEET, LIMIT])
@pytest.mark.parametrize("shape", list(SHAPES))
def test_a_hostile_draft_gets_a_report_or_a_one_line_error(checker, shape, size):
    text = SHAPES[shape](size)
    assert len(text) <= checker.max_chars
    try:
        report = checker.check(text)
    except InputError as error:  # too many tokens for a post: refused before the parse
        assert "\n" not in str(error) and "words and symbols" in str(error)
        return
    assert_valid(report, text)


@pytest.mark.parametrize("name", list(PACKS))
def test_a_hostile_pack_loads_and_its_draft_is_answered(tmp_path, name):
    patterns, draft = PACKS[name]
    (tmp_path / "pack.yaml").write_text(PACK_RULE.format(patterns=patterns), encoding="utf-8")
    try:
        checker = Checker(rule_dirs=[tmp_path], use_user_config=False)
    except RuleFileError as error:
        assert "\n" not in str(error) and "hostile-pack" in str(error)
        return
    assert_valid(checker.check(draft), draft)
