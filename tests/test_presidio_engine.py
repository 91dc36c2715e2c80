"""The linear context enhancer must give exactly the scores of Presidio's own enhancer."""

from __future__ import annotations

import random

from presidio_analyzer import AnalyzerEngine
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer

from checker.presidio_engine import LinearContextEnhancer, analyze_doc, build_analyzer

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
)


def long_draft(sentences: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    return "  ".join(rng.choice(PIECES) for _ in range(sentences))


def as_tuples(results):
    return sorted((r.entity_type, r.start, r.end, round(r.score, 6)) for r in results)


def test_linear_enhancer_scores_match_presidios_own(checker):
    analyzer, engine = build_analyzer(checker.nlp)
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
    analyzer, engine = build_analyzer(checker.nlp)
    text = long_draft(12, seed=2)
    plain = engine.process_text(text, "en")  # Presidio's own artifacts: no index attached
    stock = LemmaContextAwareEnhancer()
    enhancer = analyzer.context_aware_enhancer
    for start in (0, text.index("555"), len(text) - 3):
        word = text[start:start + 3]
        assert sorted(enhancer._extract_surrounding_words(plain, word, start)) == \
            sorted(stock._extract_surrounding_words(plain, word, start))
