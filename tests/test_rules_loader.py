"""Rule files: organisation packs load without Python, and every broken file names file, rule and field."""

from __future__ import annotations

import os
import re
import textwrap
from pathlib import Path

import pytest

from checker import Checker, config
from checker.errors import RuleFileError
from checker.rules import load_rule_files, load_rules
from tests.packs import UNIT_RULE

VALID = UNIT_RULE.replace("{extra}", "    context:\n      needs: [encounter-sentence]\n")


def write_pack(directory: Path, body: str, name: str = "local.yaml") -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def test_an_organisation_pack_adds_a_rule_without_python(tmp_path):
    write_pack(tmp_path, "rules:" + VALID.format(rule_id="our-unit-names"))
    checker = Checker(rule_dirs=[tmp_path])
    fired = {f.rule for f in checker.check("Admitted a patient to Heron Unit overnight.").findings}
    assert "our-unit-names" in fired
    assert checker.check("Heron Unit is hiring nurses.").verdict == "ok"


def test_packs_named_by_postcheck_rules_are_loaded_by_the_transports(tmp_path, monkeypatch):
    write_pack(tmp_path, "rules:" + VALID.format(rule_id="env-unit-names"))
    monkeypatch.setenv("POSTCHECK_RULES", str(tmp_path))
    cli_dirs = config.resolve().checker.rule_dirs
    service_dirs = config.checker_options_from_env()["rule_dirs"]
    assert list(cli_dirs) == service_dirs == [str(tmp_path)]
    assert load_rules([Path(d) for d in cli_dirs]).get("env-unit-names")


def test_disable_turns_a_rule_off():
    checker = Checker(disable=["age-exact"])
    assert not any(f.rule == "age-exact" for f in checker.check("Admitted a 64yo.").findings)


def test_a_rule_may_allow_a_whole_lexicon(tmp_path):
    write_pack(tmp_path, "lexicons:\n  our_wards: [heron unit]\nrules:" + VALID.format(rule_id="x-rule").replace(
        "    examples:", "    allow: ['@our_wards', starling ward]\n    examples:"))
    rule = load_rules([tmp_path]).get("x-rule")
    assert {"heron unit", "starling ward"} <= rule.allow and not any(w.startswith("@") for w in rule.allow)


def test_allowed_words_never_become_findings():
    checker = Checker(allow=["tulsa"])
    assert not any(f.text == "Tulsa" for f in checker.check("Admitted a trucker from Tulsa with a PE.").findings)


@pytest.mark.parametrize("body, fragment", [
    ("rules:" + VALID.format(rule_id="x-rule").replace("severity: warning", "severity: fatal"), "field 'severity'"),
    ("rules:" + VALID.format(rule_id="x-rule").replace("    why: Our unit names narrow a patient to a few beds.\n", ""), "field 'why' is required"),
    ("rules:" + VALID.format(rule_id="x-rule").replace("phrases: [Starling Ward, Heron Unit]", "regex: ['(unclosed']"), "RE2"),
    ("rule:" + VALID.format(rule_id="x-rule"), "unknown top-level key 'rule'"),
    ("rules:" + VALID.format(rule_id="x-rule").replace("    severity: warning\n", "    severity: warning\n    severity: error\n"), "key 'severity' appears twice"),
    ("rules:" + VALID.format(rule_id="x-rule").replace("    severity: warning\n", "    severity: warning\n    case_sensitive: \"false\"\n"), "'case_sensitive' must be true or false"),
    ("rules:" + VALID.format(rule_id="x-rule").replace("message: Unit name of our hospital", "message: ' '"), "field 'message' must not be empty"),
    ("rules:" + VALID.format(rule_id="x-rule").replace("phrases: [Starling Ward, Heron Unit]", "tokens: [[{LOWER: ward, OP: '{1,1000}'}]]"), "counts go up to"),
    ("rules:" + VALID.format(rule_id="x-rule").replace("phrases: [Starling Ward, Heron Unit]", "tokens: [[{LOWER: a, OP: '*'}, {LOWER: b, OP: '*'}, {LOWER: c, OP: '*'}]]"), "more than 32"),
    ("lexicons:\n  big: [" + ", ".join(f"w{i}" for i in range(20_001)) + "]\n", "more than 20000 entries"),
    ("rules:" + VALID.format(rule_id="x-rule").replace("needs: [encounter-sentence]", "needs: [full-moon]"), "context.needs"),
    ("rules:" + VALID.format(rule_id="x-rule").replace("      pass: [\"Starling Ward is hiring nurses.\"]\n", ""), "field 'examples'"),
    ("rules:" + VALID.format(rule_id="x-rule") + VALID.format(rule_id="x-rule"), "already defined"),
    ("rules:\n  - id: Bad Id\n", "field 'id'"),
    ("rules:" + VALID.format(rule_id="x-rule").replace("    examples:", "    allow: ['@no_such_words']\n    examples:"), "field 'allow': unknown lexicon"),
    ("rules: [unclosed\n", "not valid YAML"),
])
def test_broken_rule_files_name_file_rule_and_field(tmp_path, body, fragment):
    path = write_pack(tmp_path, body)
    with pytest.raises(RuleFileError) as error:
        load_rule_files([path])
    message = str(error.value)
    assert str(path) in message and fragment in message
    assert "\n" not in message


def test_a_token_pattern_spacy_rejects_is_reported_at_load(tmp_path):
    body = "rules:" + VALID.format(rule_id="bad-tokens").replace(
        "phrases: [Starling Ward, Heron Unit]", "tokens: [[{NOT_AN_ATTR: x}]]")
    write_pack(tmp_path, body)
    with pytest.raises(RuleFileError) as error:
        Checker(rule_dirs=[tmp_path])
    assert "bad-tokens" in str(error.value) and "patterns.tokens" in str(error.value)


def test_builtin_rules_are_complete_and_cite_a_reference():
    for rule in load_rules().rules:
        assert rule.message and rule.why and rule.instead and rule.reference, rule.id


def test_a_rule_file_that_is_not_utf8_is_one_line(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("rules: []\n# caf\xe9\n".encode("latin-1"))
    with pytest.raises(RuleFileError, match=r"latin1\.yaml: not UTF-8 text"):
        load_rule_files([path])


def test_a_fifo_named_like_a_rule_file_is_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "pipe.yaml")
    with pytest.raises(RuleFileError, match=r"pipe\.yaml: not a regular file"):
        load_rules([tmp_path])


def test_an_oversized_rule_file_is_refused_before_it_is_parsed(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_text("lexicons:\n  big: [" + "x" * 1_000_001 + "]\n")
    with pytest.raises(RuleFileError, match=r"over 1,000,000 bytes"):
        load_rule_files([path])


def test_flag_examples_mark_where_the_rule_fires(tmp_path):
    body = "rules:" + VALID.format(rule_id="marked").replace(
        'flag: ["Admitted a patient to Starling Ward with pneumonia."]',
        'flag: ["Admitted a patient to [[Starling Ward]] with [[pneumonia]]."]')
    write_pack(tmp_path, body)
    rule = load_rules([tmp_path]).get("marked")
    text = rule.examples_flag[0]
    assert text == "Admitted a patient to Starling Ward with pneumonia."
    assert [text[s:e] for s, e in rule.examples_flag_marks[0]] == ["Starling Ward", "pneumonia"]


@pytest.mark.parametrize("flag, passes, fragment", [
    ('"a [[Starling Ward"', '"Starling Ward is hiring nurses."', "unbalanced"),
    ('"a patient on [[Starling Ward]]"', '"[[Starling Ward]] is hiring."', "marks nothing"),
])
def test_badly_marked_examples_are_refused(tmp_path, flag, passes, fragment):
    body = "rules:" + VALID.format(rule_id="marked").replace(
        '["Admitted a patient to Starling Ward with pneumonia."]', f"[{flag}]").replace(
        '["Starling Ward is hiring nurses."]', f"[{passes}]")
    with pytest.raises(RuleFileError, match=fragment):
        load_rule_files([write_pack(tmp_path, body)])


# Words of postcheck's own machinery: a reader of a finding never needs them.
INTERNAL_WORDS = re.compile(r"\b(?:warning|error|info) tier\b|\btier:|quasi|lexicon|candidate|\bregex|detector", re.I)


def test_what_a_reader_sees_carries_no_internal_labels():
    for rule in load_rules().rules:
        for name in ("message", "why", "instead"):
            text = getattr(rule, name)
            assert not INTERNAL_WORDS.search(text), f"{rule.id}.{name}: {text[:60]}"
            assert text[:1].isupper() or text[:1] in "\"'(", f"{rule.id}.{name} starts in lower case"
