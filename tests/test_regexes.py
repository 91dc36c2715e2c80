"""Rule regexes on RE2: patterns that backtrack for ever in Python run in linear time, offsets are exact,
and what RE2 refuses is a one-line rule-file error."""

from __future__ import annotations

import re
import sys

import pytest
import re2

from checker import Checker
from checker.errors import RuleFileError
from checker.fast.prefilter import fold
from checker.regexes import EncodedDraft, RuleRegex, compile_re2

RULE = """
rules:
  - id: pack-rule
    category: identifier
    type: FACILITY
    severity: warning
    message: A pack rule
    why: Packs are written by organisations.
    instead: Write "a ward".
    reference: HIPAA Safe Harbor 45 CFR 164.514(b)(2)(i)(R)
    patterns:
      {patterns}
    examples:
      flag: ["Quillfeather ward"]
      pass: ["a ward"]
"""

# Each took seconds to hours on Python's engine with the hostile text beside it (the figures).
HOSTILE = [
    (r"(a+)+$", "a" * 5000 + "!"),
    (r"(a|aa)+$", "a" * 5000 + "!"),
    (r"(?:a|a)+$", "a" * 5000 + "!"),
    (r"a*a*a*b", "a" * 5000),
    (r"(?:.|\s)+!", "x" * 5000),
    (r"(?:x|xx)+y", "xy " + "x" * 5000 + "!"),
]


def spans(pattern: str, text: str, case_sensitive: bool = True, after: str | None = None) -> list[str]:
    draft = EncodedDraft(text)
    return [text[start:end] for start, end in RuleRegex.compile(pattern, case_sensitive, after).spans(draft)]


@pytest.mark.parametrize("pattern, text", HOSTILE)
def test_patterns_that_backtrack_in_python_give_pythons_answers_on_re2(pattern, text):
    short = text[:12] + text[-2:]  # short enough for Python's engine to answer at once
    assert spans(pattern, short) == [m.group() for m in re.finditer(pattern, short)]
    spans(pattern, text)  # linear on RE2: this returns (on Python's engine it would not)


def test_a_hostile_token_regex_in_a_pack_runs_on_re2(tmp_path):
    (tmp_path / "pack.yaml").write_text(RULE.format(patterns='tokens: [[{TEXT: {REGEX: "(a+)+$"}}]]'))
    checker = Checker(rule_dirs=[tmp_path], use_user_config=False)
    checker.check("a" * 31 + "! seen on the ward")  # 31 characters hung Python's engine
    assert "pack-rule" in {f.rule for f in checker.explain("aaaa")}


def test_the_flag_group_marks_what_is_flagged_and_context_serves_the_next_match():
    phone = r"(?:^|[^\d-])(?P<flag>\d{3}-\d{4})(?:[^\d-]|$)"
    assert spans(phone, "555-1234 555-9999,555-0000") == ["555-1234", "555-9999", "555-0000"]
    assert spans(r"\b[Pp]atient (?P<flag>[A-Z][a-z]+)", "patient Jones and Patient Smith") == ["Jones", "Smith"]


def test_not_followed_by_drops_a_match_followed_by_that_pattern():
    assert spans(r"\baged \d\d\b", "aged 45 mg, aged 52.", after=r"[ \t]*(?:mg|%)") == ["aged 52"]


def test_offsets_are_string_offsets_after_emoji_and_accents():
    text = "🙄 café 82yo, then 👨‍👩‍👧 91yo"
    assert spans(r"\d\dyo", text) == ["82yo", "91yo"]


def test_case_insensitive_patterns_fold_like_re2():
    assert spans(r"mrs\.? k\b", "MRS. K and Mrs k", case_sensitive=False) == ["MRS. K", "Mrs k"]


def test_every_letter_re2_folds_to_ascii_is_folded_by_the_prefilter():
    """The prefilter skips a regex when its ASCII literals are missing from fold(draft); that is sound
    only if every character RE2 matches to an ASCII letter under case folding folds to that letter."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    program = compile_re2("[" + letters + "]", case_sensitive=False)
    for code in range(128, sys.maxunicode + 1):
        if 0xD800 <= code <= 0xDFFF:
            continue
        char = chr(code)
        if program.search(char.encode("utf-8")):
            assert any(letter in fold(char) for letter in letters), hex(code)


@pytest.mark.parametrize("regex, reason", [
    (r'"(a)\\1"', "RE2"),
    (r'"(?<=x)y"', "RE2"),
    (r'"(?:a{1,50}){1,50}$"', "RE2"),  # RE2 caps a repeat's total count at 1,000
    (r'"(unclosed"', "RE2"),
    (r'{pattern: "ok", unless: "x"}', "unknown key"),
])
def test_a_regex_re2_refuses_is_one_line_naming_file_rule_and_field(tmp_path, regex, reason):
    (tmp_path / "pack.yaml").write_text(RULE.format(patterns=f"regex: [{regex}]"))
    with pytest.raises(RuleFileError) as error:
        Checker(rule_dirs=[tmp_path], use_user_config=False)
    message = str(error.value)
    assert "pack.yaml" in message and "pack-rule" in message and "patterns.regex" in message
    assert reason in message and "\n" not in message


def test_a_token_regex_re2_refuses_is_one_line_at_load(tmp_path):
    (tmp_path / "pack.yaml").write_text(RULE.format(patterns='tokens: [[{TEXT: {REGEX: "(unclosed"}}]]'))
    with pytest.raises(RuleFileError, match=r"pack-rule.*patterns\.tokens.*RE2"):
        Checker(rule_dirs=[tmp_path], use_user_config=False)


@pytest.mark.parametrize("pattern", ["(" * 590 + "a" + ")" * 590, "a{1,4294967296}"])
def test_patterns_that_crashed_pythons_parser_load_or_fail_in_one_line(tmp_path, pattern):
    (tmp_path / "pack.yaml").write_text(RULE.format(patterns=f'regex: ["{pattern}"]'))
    try:
        Checker(rule_dirs=[tmp_path], use_user_config=False).check("a ward with " + "a" * 600)
    except RuleFileError as error:
        assert "\n" not in str(error)


def test_re2_stays_quiet_about_patterns_it_refuses(capfd):
    with pytest.raises(Exception):
        compile_re2("(?<=x)y")
    assert capfd.readouterr().err == ""
    assert re2  # the engine is google-re2, installed from PyPI
