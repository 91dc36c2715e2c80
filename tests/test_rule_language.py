"""The context language: predicates with parameters, named conditions, declared facts and their order.

Each defect the rule-language review found is a test here: a disabled or allowed rule blinding another,
the author's own family read as a target, and a pack that one command accepted and another refused.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from checker import Checker
from checker.errors import RuleFileError
from checker.predicates import PREDICATES
from checker.rules import load_rules
from tests.packs import UNIT_RULE

STORY = "Saw an 82yo man from Millbrook last night at 3am."



def pack(tmp_path, *rules: tuple[str, str], top: str = "", learned: bool = True) -> Checker:
    body = top + "rules:" + "".join(UNIT_RULE.format(rule_id=rule_id, extra=textwrap.indent(extra, "    ") + "\n")
                                    for rule_id, extra in rules)
    (tmp_path / "pack.yaml").write_text(body, encoding="utf-8")
    return Checker(rule_dirs=[tmp_path], use_user_config=False, learned=learned)


def rules_fired(checker: Checker, text: str, **options) -> set[str]:
    return {f.rule for f in checker.check(text, **options).findings}


def test_a_disabled_rule_still_sets_its_facts(checker):
    """With age-exact off, "82yo" no longer shows the sentence is an encounter in 0.1, and the place
    and the time went unflagged: the draft came back ok with no findings."""
    assert {"age-exact", "patient-place", "relative-time"} <= rules_fired(checker, STORY)
    for silenced in (Checker(disable=["age-exact"], use_user_config=False),
                     Checker(allow=["82yo"], use_user_config=False)):
        assert rules_fired(silenced, STORY) == {"patient-place", "relative-time"}
    assert rules_fired(checker, STORY, disable=["age-exact"]) == {"patient-place", "relative-time"}
    assert rules_fired(checker, STORY, allow=["82yo"]) == {"patient-place", "relative-time"}


def test_the_authors_own_family_is_not_a_target_of_venting(checker):
    assert checker.check("My mom STILL hasn't called me back.").verdict == "ok"
    assert "emphatic-complaint" in rules_fired(checker, "The family STILL hasn't called me back.")


def test_a_rule_that_sets_a_fact_it_reads_cannot_vouch_for_itself(tmp_path):
    setter = ("self-setter", "sets: [encounter]\ncontext:\n  needs: [patient-draft]")
    # The rules alone: which facts are read when is the point here, not the learned gates on ages.
    checker = pack(tmp_path, setter, learned=False)
    assert "self-setter" not in rules_fired(checker, "Starling Ward has new beds.")
    # Another rule's match makes the draft an encounter, so the setter's match is reported too.
    assert "self-setter" in rules_fired(checker, "Starling Ward has an 82yo.")


def test_inline_predicates_with_scopes(tmp_path):
    checker = pack(tmp_path, ("ward-near-bed", "context:\n  needs: [{words: {in: [bed, beds], scope: window, window: 2}}]"))
    assert "ward-near-bed" in rules_fired(checker, "Starling Ward bed 4 is open.")
    assert "ward-near-bed" not in rules_fired(checker, "Starling Ward, the quiet one at the end of the hall, has a bed.")


def test_a_pack_written_for_0_1_still_loads_and_behaves(tmp_path):
    legacy = ("legacy-unit", "marks_patient: true\ncontext:\n  needs: [encounter-sentence]\n"
              "  clears: [gratitude]\n  near: [\"@patient_refs\", bed]\n  not_after: [the]\n  window: 4")
    checker = pack(tmp_path, legacy)
    assert "legacy-unit" in rules_fired(checker, "My patient on Starling Ward bed 2 is stable.")
    assert "legacy-unit" not in rules_fired(checker, "My patient on the Starling Ward bed 2 is stable.")
    assert checker.ruleset.get("legacy-unit").sets == ("encounter",)


def test_a_0_1_venting_rule_sets_venting_unless_it_reads_it(tmp_path):
    venting = UNIT_RULE.replace("category: identifier", "category: venting")
    (tmp_path / "pack.yaml").write_text("rules:" + venting.format(rule_id="pack-vent", extra="")
                                        + venting.format(rule_id="pack-tag", extra="    context:\n      needs: [venting-sentence]\n"))
    ruleset = load_rules([tmp_path])
    assert ruleset.get("pack-vent").sets == ("venting",) and ruleset.get("pack-tag").sets == ()


@pytest.mark.parametrize("extra, fragment", [
    ("context:\n  needs: [full-moon]", "unknown condition 'full-moon'"),
    ("context:\n  needs: [{moon: {}}]", "unknown predicate 'moon'"),
    ("context:\n  needs: [{words: {in: ward, scoop: sentence}}]", "has no parameter 'scoop'"),
    ("context:\n  needs: [{words: {in: '@nowhere'}}]", "unknown lexicon '@nowhere'"),
    ("context:\n  needs: [{words: {in: ward, scope: paragraph}}]", "must be one of"),
    ("context:\n  needs: [{fact: {name: eclipse}}]", "unknown fact 'eclipse'"),
    ("context:\n  clears: [{tone: {at_least: 7}}]", "from -1 to 1"),
    ("sets: [eclipse]", "field 'sets': unknown fact 'eclipse'"),
])
def test_a_condition_the_loader_does_not_know_fails_at_load_naming_rule_and_field(tmp_path, extra, fragment):
    with pytest.raises(RuleFileError) as error:
        pack(tmp_path, ("bad-rule", extra))
    message = str(error.value)
    assert "pack.yaml" in message and "bad-rule" in message and fragment in message and "\n" not in message


def test_rules_that_wait_on_each_others_facts_are_refused(tmp_path):
    top = "facts:\n  ward-talk: {}\n  bed-talk: {}\n"
    first = ("sets-ward", "sets: [ward-talk]\ncontext:\n  needs: [{fact: {name: bed-talk}}]")
    second = ("sets-bed", "sets: [bed-talk]\ncontext:\n  needs: [{fact: {name: ward-talk}}]")
    with pytest.raises(RuleFileError, match=r"cycle: sets-bed, sets-ward"):
        pack(tmp_path, first, second, top=top)


def test_a_macro_that_refers_to_itself_is_refused(tmp_path):
    with pytest.raises(RuleFileError, match="refers to itself"):
        pack(tmp_path, ("loop-rule", "context:\n  needs: [loop]"), top="conditions:\n  loop: {any: [loop]}\n")


def test_facts_are_ordered_so_every_reader_comes_after_every_setter():
    ruleset = load_rules()
    position = {rule_id: i for i, rule_id in enumerate(ruleset.order)}
    setters = {fact: [r.id for r in ruleset.rules if fact in r.sets] for fact in ruleset.facts}
    for rule in ruleset.rules:
        for fact in ruleset.contexts[rule.id].reads:
            assert all(position[s] < position[rule.id] for s in setters[fact] if s != rule.id), (rule.id, fact)


def test_every_predicate_says_what_it_does():
    for predicate in PREDICATES.values():
        assert predicate.doc and predicate.doc[0].isupper(), predicate.name


@pytest.mark.parametrize("patterns", [
    'tokens: [[{LOWER: {IN: "@nowhere"}}]]',
    'tokens: [[{LOWER: {NOT_IN: [ward, "@nowhere"]}}]]',
    'phrases: ["@nowhere"]',
])
def test_every_command_refuses_a_pack_naming_an_unknown_lexicon(tmp_path, patterns):
    """0.1 checked token patterns' lexicons only when a Checker compiled them: `postcheck rules --rules
    pack` (and `serve --workers`' pre-check) took a pack that `postcheck check` refused."""
    body = "rules:" + UNIT_RULE.format(rule_id="pack-rule", extra="").replace("phrases: [Starling Ward, Heron Unit]", patterns)
    (tmp_path / "pack.yaml").write_text(body, encoding="utf-8")
    with pytest.raises(RuleFileError, match=r"pack-rule.*unknown lexicon '@nowhere'"):
        load_rules([tmp_path])


def test_the_readme_example_rule_loads_and_fires_where_it_says(tmp_path):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Writing rules"):]
    block = section[section.index("```yaml") + len("```yaml"):section.index("```", section.index("```yaml") + 7)]
    (tmp_path / "pack.yaml").write_text(block, encoding="utf-8")
    checker = Checker(rule_dirs=[tmp_path], use_user_config=False)
    rule = checker.ruleset.get("our-unit-names")
    (start, end), = rule.examples_flag_marks[0]
    found = [(f.start, f.end) for f in checker.explain(rule.examples_flag[0]) if f.rule == rule.id]
    assert found == [(start, end)]
    assert not any(f.rule == rule.id for f in checker.explain(rule.examples_pass[0]))
