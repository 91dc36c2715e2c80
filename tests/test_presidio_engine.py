"""The linear context enhancer must give exactly the scores of Presidio's own enhancer, and the
prefiltered recognizers exactly the results of Presidio's own."""

from __future__ import annotations

import random

from presidio_analyzer import AnalyzerEngine
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.predefined_recognizers import PhoneRecognizer, UsSsnRecognizer

from checker.fast.memo import BoundedMemo
from checker.presidio_engine import (
    DigitGatedPhoneRecognizer,
    LinearContextEnhancer,
    Prefiltered,
    PrefilteredSsnRecognizer,
    analyze_doc,
    build_presidio_analyzer,
)

PIECES = (
    "Call me at 555-301-2290 if the pager fails.",
    "Reach the ward on (312) 442 8731, extension 4.",
    "My phone number is 415 619 3321.",
    "Email the coordinator at rota.team@example.org today.",
    "Her SSN 078-05-1120 was in the referral letter.",
    "Slides are at https://example.net/talks/sepsis for anyone who missed it.",
    "Dr. Okonkwo from Fairhaven presented the audit.",
    "Grand rounds moved to Thursday.",
    "Try 617-772-0143, phone of the night desk.",  # a context word just after the match must not count
    "Her fundraiser is on gofundme.com/f/help-for-the-family, please share.",
    "The unit's page, 'www.stmarysnicu.org', has the photos.",
    "Link: \"http://Example.COM/a?b=1\" in quotes.",
    "Find us at WWW.SHOUTY.NET today.",
    "Nine digits 078051120 and 078-051120 and 07805-1120 and 078 05 1120.",
    "Nothing to find here, only words and a full stop.",
    "Dots. Everywhere... Even e.g. and i.e. and v2.3 and 3.5mg.",
)


def long_draft(sentences: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    return "  ".join(rng.choice(PIECES) for _ in range(sentences))


def as_tuples(results):
    return sorted((r.entity_type, r.start, r.end, round(r.score, 6)) for r in results)


def test_linear_enhancer_scores_match_presidios_own(checker):
    analyzer, engine = build_presidio_analyzer(checker.nlp)
    assert isinstance(analyzer.context_aware_enhancer, LinearContextEnhancer)
    stock = AnalyzerEngine(
        nlp_engine=engine, registry=analyzer.registry, supported_languages=["en"],
        context_aware_enhancer=LemmaContextAwareEnhancer(),
    )
    doc = checker.nlp(long_draft(300))
    ours = analyze_doc(analyzer, engine, doc)
    theirs = analyze_doc(stock, engine, doc)
    assert len(ours) > 100
    # Context words ("phone", "call") really raised some phone scores above the recognizer's 0.4.
    assert {round(r.score, 2) for r in theirs if r.entity_type == "PHONE_NUMBER"} >= {0.4, 0.75}
    assert as_tuples(ours) == as_tuples(theirs)


def test_artifacts_without_the_index_fall_back_to_presidio(checker):
    analyzer, engine = build_presidio_analyzer(checker.nlp)
    text = long_draft(12, seed=2) + "  " + PIECES[0]
    plain = engine.process_text(text, "en")  # Presidio's own artifacts: no index attached
    stock = LemmaContextAwareEnhancer()
    enhancer = analyzer.context_aware_enhancer
    for start in (0, text.index("555"), len(text) - 3):
        word = text[start:start + 3]
        assert sorted(enhancer._extract_surrounding_words(plain, word, start)) == \
            sorted(stock._extract_surrounding_words(plain, word, start))


def test_prefiltered_recognizers_find_what_presidios_own_find(checker):
    ours_and_theirs = [
        (PrefilteredSsnRecognizer(), UsSsnRecognizer()),
        (DigitGatedPhoneRecognizer(supported_regions=("US",)), PhoneRecognizer(supported_regions=("US",))),
    ]
    found = 0
    for text in (*PIECES, long_draft(40, seed=5)):
        for ours, theirs in ours_and_theirs:
            expected = as_tuples(theirs.analyze(text, theirs.supported_entities))
            assert as_tuples(ours.analyze(text, ours.supported_entities)) == expected, (type(ours).__name__, text)
            found += len(expected)
    assert found >= 5


def test_an_overlong_stretch_is_read_up_to_its_first_characters_only():
    stock = UsSsnRecognizer()
    ours = PrefilteredSsnRecognizer()
    head = "ref:536-22-1235;"
    stretch = head + "x." * 2000 + ";536-22-1236"
    text = "SSN 536-22-1237 then " + stretch + " and 536-22-1234 after"
    expected = as_tuples(stock.analyze(text.replace(stretch, " " * len(stretch)), stock.supported_entities))
    offset = text.index(head)
    expected += [(kind, start + offset, end + offset, score)
                 for kind, start, end, score in as_tuples(stock.analyze(head, stock.supported_entities))]
    assert sorted(as_tuples(ours.analyze(text, ours.supported_entities))) == sorted(expected)
    assert len(expected) == 3  # before, at the start of, and after the stretch; not its far end


def test_artifacts_are_presidios_own(checker):
    _, engine = build_presidio_analyzer(checker.nlp)
    for text in (*PIECES, long_draft(30, seed=4), "A", "Ünïcødé 🙄 naïve: e-mail—dash"):
        doc = checker.nlp(text)
        ours, theirs = engine.artifacts(doc), engine._doc_to_nlp_artifact(doc, "en")
        assert [(e.start, e.end, e.label_) for e in ours.entities] == [(e.start, e.end, e.label_) for e in theirs.entities]
        assert (ours.tokens_indices, ours.lemmas, ours.keywords, ours.scores) == \
            (theirs.tokens_indices, theirs.lemmas, theirs.keywords, theirs.scores)
        assert ours.nlp_engine is engine and ours.tokens is doc
        assert ours.context_index[0] == [token.idx + len(token) for token in doc]


def test_remembered_keywords_stay_bounded(checker, monkeypatch):
    _, engine = build_presidio_analyzer(checker.nlp)
    monkeypatch.setattr(engine, "_keywords", BoundedMemo(limit=3))
    doc = checker.nlp(long_draft(10, seed=6))
    assert engine.artifacts(doc).keywords == engine._doc_to_nlp_artifact(doc, "en").keywords
    assert len(engine._keywords) <= 3
