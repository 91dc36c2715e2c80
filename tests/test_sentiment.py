"""The sentiment detector: neutralised VADER, clause by clause, and never without a target."""

from __future__ import annotations

import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from checker.detectors.sentiment import build_sentiment_analyzer
from checker.syntax import clauses
from checker.rules import load_rules

SENTIMENT_RULES = {"contempt-for-patients", "contempt-for-colleagues", "contempt-for-institution"}


def sentiment_findings(checker, text):
    return [f for f in checker.explain(text) if f.rule in SENTIMENT_RULES]


def test_clinical_and_self_directed_words_lose_their_valence():
    raw = SentimentIntensityAnalyzer()
    ours = build_sentiment_analyzer(load_rules())
    for text in ("I'm exhausted and heartbroken", "pain, cancer, died"):
        assert raw.polarity_scores(text)["compound"] < -0.4  # what a general-purpose lexicon does
        assert ours.polarity_scores(text)["compound"] == 0


def test_contempt_words_vader_lacks_are_added_and_allowed_words_removed():
    rules = load_rules()
    assert build_sentiment_analyzer(rules).polarity_scores("entitled clowns")["compound"] < -0.4
    allowed = rules.with_allowed(["clowns", "entitled"])
    assert build_sentiment_analyzer(allowed).polarity_scores("entitled clowns")["compound"] == 0


def test_a_negative_clause_without_a_target_is_not_a_finding(checker):
    assert sentiment_findings(checker, "This pager is useless and the weather is awful.") == []
    assert sentiment_findings(checker, "Our consultant is useless and awful.")


def test_one_contemptuous_clause_in_a_kind_post_is_found_and_marked_on_its_own(checker):
    text = ("What a week. So grateful for our nurses, our pharmacists and every co-resident who covered "
            "for me, and thank you to the families who brought food. The cardiology attending, though, was "
            "rude and condescending to our intern all week.")
    found = sentiment_findings(checker, text)
    assert found, "the one insult was diluted away"
    assert all("grateful" not in f.text and "rude" in text[f.start:f.end] for f in found)


@pytest.mark.parametrize("text", [
    "I'm exhausted after call.",
    "Tough week, grateful for my team.",
    "We lost a patient today and I'm heartbroken.",
    "Our hospital's new badge policy adds ten minutes to every admission; I hope leadership will reconsider it.",
    "Never dismiss a patient who tells you something is wrong.",
    "If your attending ignores duty hour violations, report them.",
    "The family was angry about the wait, and they had every right to be.",
    "Patients hate being woken at 4am for labs, so we cluster the draws.",
])
def test_grief_fatigue_advice_and_what_targets_feel_are_not_contempt(checker, text):
    assert sentiment_findings(checker, text) == []


def test_the_subject_decides_whom_a_clause_is_about(checker):
    found = sentiment_findings(checker, "The family was rude and insulting to our nurses all night.")
    assert {f.rule for f in found} == {"contempt-for-patients"}


def test_clauses_split_on_the_parse(checker):
    doc = checker.nlp("I loved the lecture, but the consultant who gave it was rude.")
    texts = [c.text.strip() for c in clauses(next(doc.sents))]
    assert len(texts) >= 2
    assert any("loved" in t and "rude" not in t for t in texts)
