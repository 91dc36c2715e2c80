"""The learned signals as rules consume them: a fact's signal source, the `signal` predicate, the
learned venting rule, the gates, their thresholds as rules data, and the rules alone with them off."""

from __future__ import annotations

import textwrap

import pytest

from checker import Checker
from checker.errors import RuleFileError
from checker.signals import TARGETS
from tests.packs import UNIT_RULE

# A tribute in the second person: no patient word for the rules, a story for the encounter signal.
TRIBUTE = "You were the bravest eight-year-old on the ward, and last Tuesday you rang the bell."
# Sarcasm carried by ordinary words: no slang, no insult, no emoji.
SARCASM = "Nothing says teamwork like surgery signing out a septic patient as 'stable' and vanishing."
# A teaching case: an exact age in no one's story.
TEACHING = "A 45-year-old with chest pain: what is your first test? #MedEd"


@pytest.fixture(scope="module")
def rules_only() -> Checker:
    return Checker(learned=False)


def fired(checker: Checker, text: str) -> set[str]:
    return {f.rule for f in checker.check(text).findings}


def pack(tmp_path, extra: str, top: str = "", **options) -> Checker:
    body = top + "rules:" + UNIT_RULE.format(rule_id="pack-rule", extra=textwrap.indent(extra, "    ") + "\n")
    (tmp_path / "pack.yaml").write_text(body, encoding="utf-8")
    return Checker(rule_dirs=[tmp_path], **options)


def test_the_encounter_signal_makes_a_tribute_an_encounter(checker, rules_only):
    assert fired(checker, TRIBUTE) == {"weekday"}
    assert fired(rules_only, TRIBUTE) == set()


def test_the_venting_rule_marks_the_sentence_and_names_whom_it_is_aimed_at(checker, rules_only):
    text = f"Long night on call. {SARCASM}"
    findings = [f for f in checker.check(text).findings if f.rule == "venting-in-words"]
    assert [f.text for f in findings] == [SARCASM]
    target_words = ("a patient", "a patient's family", "a colleague", "a training program",
                    "a hospital or employer", "an insurer or payer", "a profession")
    assert len(target_words) == len(TARGETS)
    assert findings[0].message.startswith("This sentence reads as venting at ")
    assert findings[0].message.removeprefix("This sentence reads as venting at ") in target_words
    assert "{target}" not in findings[0].message
    assert "venting-in-words" not in fired(rules_only, text)


def test_tiredness_and_thanks_are_not_venting(checker):
    for text in ("So tired after a 28 hour call, going to sleep for a week.",
                 "Grateful for the nurses who stayed late to help with a tough admission tonight."):
        assert checker.check(text).verdict == "ok", text


def test_the_identifiable_gate_clears_a_teaching_age_and_passes_when_the_signals_are_off(checker, rules_only):
    assert fired(checker, TEACHING) == set()
    assert fired(rules_only, TEACHING) == {"age-exact"}
    # A story with the same kind of detail keeps it.
    assert "age-exact" in fired(checker, "Saw an 82yo man from Millbrook last night at 3am.")


def test_disabling_the_learned_rule_leaves_the_venting_fact_it_does_not_set(checker):
    """The venting fact's signal source is the fact's own, not the rule's: a name in a sarcastic
    sentence is still a name in a venting sentence with venting-in-words off."""
    text = "Radiology read it as 'clinical correlation recommended'. Thanks, Dr. Okafor, very helpful."
    assert {"venting-in-words", "names-target-in-vent"} <= fired(checker, text)
    assert "names-target-in-vent" in {f.rule for f in checker.check(text, disable=["venting-in-words"]).findings}


def test_the_signal_predicate_reads_each_model_at_its_scope(tmp_path):
    text = "Admitted a patient to Starling Ward with pneumonia."
    probe = pack(tmp_path, "")
    doc = probe.parse(text)
    from checker.context import DraftContext

    ctx = DraftContext(doc, probe.compiled.lexicon_hits(doc), probe.ruleset.lexicons, probe.ruleset.facts,
                       learned=probe.signals)
    start = next(t.i for t in doc if t.text == "Starling")
    scores = {"name": ctx.signals.name(start, start + 2), "identifiable": ctx.signals.identifiable(),
              "encounter": ctx.signals.sentence("encounter", 0), "venting": ctx.signals.sentence("venting", 0)}
    for model, score in scores.items():
        for sub, (low, high) in enumerate(((max(0.0, score - 0.01), True), (min(1.0, score + 0.01), False))):
            (tmp_path / f"{model}{sub}").mkdir()
            checker = pack(tmp_path / f"{model}{sub}", f"context:\n  needs: [{{signal: {{model: {model}, at_least: {low}}}}}]")
            # explain: every rule that fired (the PERSON finding on the same words would win the merge)
            assert ("pack-rule" in {f.rule for f in checker.explain(text)}) is high, (model, score, low)


def test_thresholds_are_rules_data(tmp_path):
    """An organisation lowers the venting threshold in its own pack (no Python): a new rule on the
    same signal, with the shipped one turned off, flags what the shipped one does not."""
    mild = "Third page about the same potassium tonight."
    checker = Checker()
    shipped = checker.ruleset.get("venting-in-words").signal.at_least
    doc = checker.parse(mild)
    from checker.syntax import bounded_sentences

    score = max(checker.signals.score(doc, bounded_sentences(doc)).venting)
    assert 0.1 < score < shipped  # some venting, under the shipped threshold
    rule = f"""
rules:
  - id: our-venting
    category: venting
    type: VENTING
    severity: warning
    message: Reads as venting at {{target}}
    why: Our social media policy.
    instead: Raise it at the M&M.
    reference: Our policy 7.2
    patterns:
      signal: {{model: venting, at_least: {score - 0.05:.4f}}}
    examples:
      flag: ["[[{mild}]]"]
      pass: ["Thanks to the night team."]
"""
    (tmp_path / "ours.yaml").write_text(rule, encoding="utf-8")
    ours = Checker(rule_dirs=[tmp_path], disable=["venting-in-words"])
    assert "our-venting" in fired(ours, mild) and "venting-in-words" not in fired(checker, mild)


@pytest.mark.parametrize("context, problem", [
    ("{signal: {model: mood, at_least: 0.5}}", "must be one of"),
    ("{signal: {model: name}}", "one of 'at_least' and 'below'"),
    ("{signal: {model: name, at_least: 0.5, below: 0.2}}", "one of 'at_least' and 'below'"),
    ("{signal: {model: venting, at_least: 1.5}}", "probability from 0 to 1"),
    ("{signal: {model: venting, at_least: 0.5, scope: clause}}", "must be one of"),
])
def test_a_bad_signal_condition_fails_at_load_naming_the_rule(tmp_path, context, problem):
    with pytest.raises(RuleFileError, match=rf"pack-rule.*{problem}"):
        pack(tmp_path, f"context:\n  needs: [{context}]")


@pytest.mark.parametrize("fact, problem", [
    ("{signal: {model: name, at_least: 0.5}}", "'model' must be one of encounter, venting"),
    ("{signal: {model: venting}}", "mapping with 'model' and 'at_least'"),
    ("{signal: {model: venting, at_least: yes}}", "probability from 0 to 1"),
])
def test_a_bad_fact_signal_fails_at_load_naming_the_fact(tmp_path, fact, problem):
    with pytest.raises(RuleFileError, match=rf"fact 'ours'.*{problem}"):
        pack(tmp_path, "", top=f"facts:\n  ours: {fact}\n")


def test_a_message_slot_is_only_for_signal_rules(tmp_path):
    body = UNIT_RULE.format(rule_id="pack-rule", extra="").replace(
        "message: Unit name of our hospital", "message: Unit name of {target}")
    (tmp_path / "pack.yaml").write_text("rules:" + body, encoding="utf-8")
    with pytest.raises(RuleFileError, match=r"pack-rule.*'message': unknown slot '\{target\}'"):
        Checker(rule_dirs=[tmp_path])


def test_missing_weights_exit_3_in_one_line(tmp_path, capsys, monkeypatch):
    import checker.signals
    from checker.cli import main

    monkeypatch.setattr(checker.signals, "MODELS_DIR", tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(["check", "--text", "Thanks to the night team."])
    err = capsys.readouterr().err
    assert exit_info.value.code == 3
    assert "learned-signal weights are missing" in err and len(err.strip().splitlines()) == 1


def test_draft_signals_answer_as_the_models_do(checker):
    """DraftSignals keeps per-draft inputs and the draft's highest scores so a long draft's thousand
    candidates cost linear time; each answer equals the model's own."""
    from checker.signals import DraftSignals
    from checker.syntax import bounded_sentences

    text = f"{TRIBUTE} Thanks to Dr. Amara Okafor and Nurse Lee. {SARCASM}"
    doc = checker.parse(text)
    bounds = bounded_sentences(doc)
    draft = DraftSignals(checker.signals, doc, bounds)
    spans = [(ent.start, ent.end) for ent in doc.ents] + [(0, 1), (len(doc) - 2, len(doc))]
    # one span at a time or all at once: the same scores up to float rounding of the batched product
    assert [draft.name(*span) for span in spans] == pytest.approx(checker.signals.name_scores(doc, spans, bounds), rel=1e-5)
    scores = checker.signals.score(doc, bounds)
    for model in ("encounter", "venting"):
        values = getattr(scores, model)
        assert draft.highest(model, 0, len(bounds) - 1) == max(values)
        assert draft.highest(model, 1, 2) == max(values[1:3])
        assert [draft.sentence(model, i) for i in range(len(bounds))] == list(values)
    assert draft.identifiable() == checker.signals.identifiable(doc)


def test_eval_prints_the_rules_alone_beside_the_learned_checker(rules_only, capsys, monkeypatch):
    import json
    from pathlib import Path

    from checker.cli import main
    from checker.evaluation import load_corpus, score

    corpus = Path(__file__).resolve().parents[1] / "examples" / "drafts.jsonl"
    with pytest.raises(SystemExit) as exit_info:
        main(["eval", str(corpus), "--baseline", "rules", "--format", "json"])
    assert exit_info.value.code == 0
    scores = json.loads(capsys.readouterr().out)
    assert set(scores) == {"postcheck", "rules only"}
    drafts = load_corpus(corpus)
    expected = score(drafts, (r.findings for r in rules_only.check_many([d.text for d in drafts]))).to_dict()
    assert scores["rules only"] == json.loads(json.dumps(expected))
