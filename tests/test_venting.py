"""Venting and conduct through the whole Checker: targets, tiers, organisation packs, allowed words."""

from __future__ import annotations

import pytest

from checker import Checker
from checker.errors import RuleFileError

VENTING = ("venting", "conduct")


def counted(report, categories=VENTING):
    return [f for f in report.counted if f.category in categories]


@pytest.mark.parametrize("text", [
    "I'm exhausted after call.",
    "Tough week, grateful for my team.",
    "We lost a patient today and I'm heartbroken.",
    "Our program's new leave policy gives six weeks; I'd argue twelve would serve residents and patients better.",
    "Huge thanks to our respiratory therapists for carrying the unit through flu season.",
    "Stop calling patients 'frequent flyers'; they are people with unmet needs.",
    "Persistent AF after cardioversion? Think about amiodarone and an echo.",
    "Overslept on my one day off. Shocker. 🙃",
    "Families who lose a child carry that grief forever. Be gentle with them.",
])
def test_clean_posts_come_back_clean(checker, text):
    report = checker.check(text)
    assert counted(report) == [], [(f.rule, f.text) for f in counted(report)]


@pytest.mark.parametrize("text, rule", [
    ("The night float senior is a complete moron.", "insult-name-calling"),
    ("Honestly, the most entitled family of the year.", "contempt-for-target"),
    ("Pharmacy STILL hasn't verified the drip.", "emphatic-complaint"),
    ("So sick of consultants who sign off by text.", "tired-of-target"),
    ("Admin bought new lobby art instead of hiring nurses 🙄", "eye-roll-at-target"),
])
def test_venting_is_a_warning(checker, text, rule):
    found = {f.rule: f.severity for f in checker.explain(text)}
    assert found.get(rule) == "warning"
    assert checker.check(text).verdict == "review"


def test_derisive_slang_blocks(checker):
    report = checker.check("Two gomers and a bounce-back before midnight.")
    assert report.verdict == "block"
    assert any(f.rule == "derogatory-slang" and f.severity == "error" for f in report.findings)


def test_naming_the_target_of_a_vent_is_an_error_but_praise_is_not(checker):
    vent = checker.check("Dr. Okafor signed out a crashing patient as stable AGAIN.")
    assert any(f.rule == "names-target-in-vent" and f.text == "Dr. Okafor" and f.severity == "error"
               for f in vent.findings)
    assert vent.verdict == "block"
    praise = checker.check("Dr. Okafor stayed late AGAIN to teach us ultrasound, thank you!")
    assert not any(f.rule == "names-target-in-vent" for f in praise.findings)


def test_stigma_is_info_and_never_changes_the_verdict(checker):
    report = checker.check("Patient claims she takes every dose.")
    stigma = [f for f in report.findings if f.rule == "stigma-doubting"]
    assert stigma and stigma[0].severity == "info" and stigma[0].suggestion
    assert report.verdict == "ok"


def test_conduct_is_its_own_category(checker):
    report = checker.check("Rounded totally hungover and nobody noticed.")
    assert [f.category for f in report.counted] == ["conduct"]
    assert report.verdict == "block"
    assert [f.rule for f in checker.check("Post-call and tired AF.").counted] == ["profanity"]


def test_every_venting_finding_says_why_and_what_instead(checker):
    report = checker.check("My attending is a clown and the program is a joke. Sure Jan.")
    assert counted(report)
    for finding in counted(report):
        assert finding.why and finding.suggestion and finding.reference


def test_an_organisation_pack_adds_slang_and_allows_words(tmp_path):
    (tmp_path / "org.yaml").write_text(
        "lexicons:\n"
        "  derogatory_slang: [bluebird]\n"
        "allow: [gomer]\n",
        encoding="utf-8",
    )
    checker = Checker(rule_dirs=[tmp_path])
    assert any(f.rule == "derogatory-slang" for f in checker.check("Three bluebirds in the ED tonight.").findings)
    assert not any(f.category == "venting" for f in checker.check("A gomer in bed 2.").findings)


def test_an_allowed_word_is_also_neutral_for_the_sentiment_detector(checker):
    text = "Our residency program is toxic."
    assert any(f.category == "venting" for f in checker.check(text).counted)
    allowed = Checker(allow=["toxic"])
    assert not any(f.category == "venting" for f in allowed.check(text).counted)


def test_token_patterns_may_name_lexicons_and_unknown_ones_fail_at_load(tmp_path):
    (tmp_path / "org.yaml").write_text(
        "rules:\n"
        "  - id: org-bad-lexicon\n"
        "    category: venting\n"
        "    type: INSULT\n"
        "    severity: warning\n"
        "    message: m\n"
        "    why: w\n"
        "    instead: i\n"
        "    reference: r\n"
        "    patterns:\n"
        "      tokens:\n"
        "        - [{LOWER: {IN: \"@no_such_words\"}}]\n"
        "    examples: {flag: [x], pass: [y]}\n",
        encoding="utf-8",
    )
    with pytest.raises(RuleFileError, match="org-bad-lexicon.*patterns.tokens.*@no_such_words"):
        Checker(rule_dirs=[tmp_path])
