"""Presidio's AnalyzerEngine, fed the pipeline's own parse, with a recognizer set trimmed for clinicians.

Four traps and one cost of plain Presidio are dealt with here:
- it downloads a spaCy model when the configured one is missing: this engine is handed the pipeline
  postcheck already loaded, so it never resolves or fetches a model itself;
- its e-mail recognizer validates domains with tldextract, whose default extractor fetches the public
  suffix list over the network: ours uses the snapshot bundled with tldextract and never connects;
- it would parse the text a second time: `analyze(doc)` builds NlpArtifacts from the existing Doc;
- its context enhancer walks the whole draft for every match, so a long draft costs its length squared:
  `LinearContextEnhancer` gives the same scores in linear time;
- its pattern recognizers scan every draft with every regex (the URL ones list every web domain): here
  they return at once when the draft lacks the literals each regex needs (checker/fast/prefilter.py), and the
  phone recognizer when the draft has no digit. Results are the same; only the time changes.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import Iterable

import tldextract
from presidio_analyzer import AnalyzerEngine, PatternRecognizer, RecognizerRegistry, RecognizerResult
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import (
    EmailRecognizer,
    PhoneRecognizer,
    SpacyRecognizer,
    UsSsnRecognizer,
)
from spacy.attrs import IDX, LEMMA, LENGTH
from spacy.language import Language
from spacy.tokens import Doc

from checker.fast.memo import BoundedMemo
from checker.fast.prefilter import fold, literal_check, required_literals

LANGUAGE = "en"
# Only what a US clinician's post can carry; credit cards, IBANs, crypto wallets and the like are not.
# Links are a rule regex on RE2 (rules/identifiers.yaml, personal-link): Presidio's URL patterns cost the
# square of a dotted stretch's length with a large constant (64 characters of "a.a." took 18 ms).
TRIMMED_ENTITIES = ("PERSON", "LOCATION", "EMAIL_ADDRESS", "PHONE_NUMBER", "US_SSN")

# Offline: an empty URL list makes tldextract use the suffix snapshot it ships with; no cache on disk.
_OFFLINE_TLD = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)


# The flags of Presidio's `regex` patterns that Python's `re` reads the same way.
_RE_FLAGS = re.IGNORECASE | re.MULTILINE | re.DOTALL | re.VERBOSE
_DIGIT = re.compile(r"\d")
# Longer than any address a post carries (browsers cap URLs near 2,000; shared links are far shorter).
MAX_CHUNK = 512
_LONG_STRETCH = re.compile(r"\S{%d,}" % (MAX_CHUNK + 1))


class Prefiltered(PatternRecognizer):
    """A pattern recognizer that skips drafts holding none of the literals its regexes need, and reads
    an overlong whitespace-free stretch only up to MAX_CHUNK characters.

    Presidio's URL and e-mail patterns (Python's `regex`, backtracking) cost the square of a stretch's
    length: "http://" + "a." * 24,990 took over 50 s. Real addresses are far shorter, so a stretch over
    MAX_CHUNK characters is blanked out (spaces keep every offset) and its first MAX_CHUNK characters
    are analyzed on their own. Drafts without such a stretch get Presidio's own results unchanged.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        flags = int(self.global_regex_flags) & _RE_FLAGS
        self.required = [_regex_literals(pattern.regex, flags) for pattern in self.patterns]

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None, regex_flags=None) -> list[RecognizerResult]:
        if regex_flags is None:  # other flags could read the patterns differently
            folded = fold(text)
            if not any(literal_check(literals, folded) for literals in self.required):
                return []
        long_stretches = list(_LONG_STRETCH.finditer(text))
        if not long_stretches:
            return super().analyze(text, entities, nlp_artifacts, regex_flags)
        blanked = _LONG_STRETCH.sub(lambda match: " " * len(match.group()), text)
        results = super().analyze(blanked, entities, nlp_artifacts, regex_flags)
        for stretch in long_stretches:
            for result in super().analyze(stretch.group()[:MAX_CHUNK], entities, None, regex_flags):
                result.start += stretch.start()
                result.end += stretch.start()
                results.append(result)
        return results


def _regex_literals(source: str, flags: int):
    """Required literals of a Presidio pattern; None (always run it) if Python's `re` cannot read it."""
    try:
        return required_literals(re.compile(source, flags))
    except re.error:
        return None


class OfflineEmailRecognizer(Prefiltered, EmailRecognizer):
    """Presidio's e-mail recognizer with its domain check answered from the bundled suffix snapshot."""

    def validate_result(self, pattern_text: str) -> bool:
        return _OFFLINE_TLD(pattern_text).fqdn != ""


class PrefilteredSsnRecognizer(Prefiltered, UsSsnRecognizer):
    """Presidio's US SSN recognizer, skipping drafts its patterns cannot match."""


class DigitGatedPhoneRecognizer(PhoneRecognizer):
    """Presidio's phone recognizer, skipping drafts without a single digit (no phone number has none)."""

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        return super().analyze(text, entities, nlp_artifacts) if _DIGIT.search(text) else []


class LinearContextEnhancer(LemmaContextAwareEnhancer):
    """Presidio's lemma context enhancer with the same answers, in time linear in the draft's length.

    Presidio finds each match's token by walking the draft from its first token and tests words against
    a list of keywords, so every match costs the length of the draft. Artifacts made by
    `PreloadedSpacyEngine.artifacts` carry token end offsets (bisected) and the keywords as a set.
    """

    def _extract_surrounding_words(self, nlp_artifacts: NlpArtifacts, word: str, start: int) -> list[str]:
        index = getattr(nlp_artifacts, "context_index", None)
        if index is None or not nlp_artifacts.tokens:
            return super()._extract_surrounding_words(nlp_artifacts, word, start)
        token_ends, keywords = index
        # Presidio takes the first token that starts at the match or ends after its start.
        token_index = bisect_right(token_ends, start)
        if token_index == len(token_ends):
            raise ValueError(f"match at offset {start} is past the last token")
        lemmas = nlp_artifacts.lemmas
        backward = self._add_n_words_backward(token_index, self.context_prefix_count, lemmas, keywords)
        forward = self._add_n_words_forward(token_index, self.context_suffix_count, lemmas, keywords)
        return list(set(backward + forward))


class PreloadedSpacyEngine(SpacyNlpEngine):
    """A Presidio NLP engine around an already-loaded pipeline: nothing to resolve, nothing to download."""

    def __init__(self, nlp: Language):
        mapping = NerModelConfiguration().model_to_presidio_entity_mapping | {"FAC": "LOCATION"}
        # Labels no rule can use (CARDINAL, MONEY, ...): Presidio would log a warning per entity per draft.
        unused = sorted(set(nlp.get_pipe("ner").labels) - set(mapping)) if nlp.has_pipe("ner") else []
        super().__init__(
            models=[{"lang_code": LANGUAGE, "model_name": nlp.meta.get("name", "preloaded")}],
            ner_model_configuration=NerModelConfiguration(model_to_presidio_entity_mapping=mapping,
                                                          labels_to_ignore=unused),
        )
        self.nlp = {LANGUAGE: nlp}
        self._keywords: BoundedMemo[str, list[str]] = BoundedMemo()  # lemma -> Presidio's keywords for it

    def load(self) -> None:
        """Already loaded in __init__; overriding stops the base class from resolving a model name."""

    def artifacts(self, doc: Doc) -> NlpArtifacts:
        """Presidio's view of a Doc the pipeline has already parsed (what `_doc_to_nlp_artifact` builds),
        read with one `to_array`, and indexed for LinearContextEnhancer.

        Presidio's keywords are each lemma filtered on its own (stop word, punctuation, "be"), through
        a vocabulary lookup per token; here Presidio's own filter answers once per distinct lemma.
        """
        strings = doc.vocab.strings
        starts, lengths, lemma_ids = doc.to_array([IDX, LENGTH, LEMMA]).T.tolist() if len(doc) else ([], [], [])
        lemmas = [strings[lemma] for lemma in lemma_ids]
        entities, scores = self._get_updated_entities(self._get_entities(doc), self._get_scores_for_entities(doc))
        artifacts = NlpArtifacts(entities=entities, tokens=doc, tokens_indices=starts, lemmas=lemmas,
                                 nlp_engine=None, language=LANGUAGE, scores=scores)  # no engine: no keywords yet
        artifacts.nlp_engine = self
        artifacts.keywords = [
            keyword for lemma in lemmas
            for keyword in self._keywords.get(lemma, lambda: NlpArtifacts.set_keywords(self, [lemma], LANGUAGE))
        ]
        artifacts.context_index = ([start + length for start, length in zip(starts, lengths)], frozenset(artifacts.keywords))
        return artifacts


def build_presidio_analyzer(nlp: Language, trimmed: bool = True) -> tuple[AnalyzerEngine, PreloadedSpacyEngine]:
    """An AnalyzerEngine over `nlp`: trimmed for postcheck, or Presidio's defaults for the baseline."""
    engine = PreloadedSpacyEngine(nlp)
    registry = RecognizerRegistry(supported_languages=[LANGUAGE])
    if trimmed:
        for recognizer in (
            SpacyRecognizer(supported_entities=["PERSON", "LOCATION"]),
            OfflineEmailRecognizer(),
            # US national formats, plus any number written with its +country code; each extra region
            # is another full pass of libphonenumber's matcher (8 regions cost 5x one).
            DigitGatedPhoneRecognizer(supported_regions=("US",)),
            PrefilteredSsnRecognizer(),
        ):
            registry.add_recognizer(recognizer)
    else:
        registry.load_predefined_recognizers(languages=[LANGUAGE], nlp_engine=engine)
        registry.remove_recognizer("EmailRecognizer")
        registry.add_recognizer(OfflineEmailRecognizer())
    analyzer = AnalyzerEngine(
        nlp_engine=engine,
        registry=registry,
        supported_languages=[LANGUAGE],
        context_aware_enhancer=LinearContextEnhancer() if trimmed else None,
    )
    return analyzer, engine


def analyze_doc(
    analyzer: AnalyzerEngine,
    engine: PreloadedSpacyEngine,
    doc: Doc,
    entities: Iterable[str] | None = TRIMMED_ENTITIES,
    text: str | None = None,
) -> list[RecognizerResult]:
    """Run the recognizers over an existing parse (no second NLP pass). Pass the draft's `text` when it
    is at hand: `Doc.text` rebuilds the string from every token on each access."""
    return analyzer.analyze(
        text=doc.text if text is None else text,
        language=LANGUAGE,
        entities=list(entities) if entities is not None else None,
        nlp_artifacts=engine.artifacts(doc),
    )
