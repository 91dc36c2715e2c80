"""Presidio's AnalyzerEngine, fed the pipeline's own parse, with a recognizer set trimmed for clinicians.

Three traps of plain Presidio are closed here:
- it downloads a spaCy model when the configured one is missing: this engine is handed the pipeline
  postcheck already loaded, so it never resolves or fetches a model itself;
- its e-mail recognizer validates domains with tldextract, whose default extractor fetches the public
  suffix list over the network: ours uses the snapshot bundled with tldextract and never connects;
- it would parse the text a second time: `analyze(doc)` builds NlpArtifacts from the existing Doc.
"""

from __future__ import annotations

from typing import Iterable

import tldextract
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry, RecognizerResult
from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import (
    EmailRecognizer,
    PhoneRecognizer,
    SpacyRecognizer,
    UrlRecognizer,
    UsSsnRecognizer,
)
from spacy.language import Language
from spacy.tokens import Doc

LANGUAGE = "en"
# Only what a US clinician's post can carry; credit cards, IBANs, crypto wallets and the like are not.
TRIMMED_ENTITIES = ("PERSON", "LOCATION", "EMAIL_ADDRESS", "PHONE_NUMBER", "URL", "US_SSN")

# Offline: an empty URL list makes tldextract use the suffix snapshot it ships with; no cache on disk.
_OFFLINE_TLD = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)


class OfflineEmailRecognizer(EmailRecognizer):
    """Presidio's e-mail recognizer with its domain check answered from the bundled suffix snapshot."""

    def validate_result(self, pattern_text: str) -> bool:
        return _OFFLINE_TLD(pattern_text).fqdn != ""


class PreloadedSpacyEngine(SpacyNlpEngine):
    """A Presidio NLP engine around an already-loaded pipeline: nothing to resolve, nothing to download."""

    def __init__(self, nlp: Language):
        mapping = NerModelConfiguration().model_to_presidio_entity_mapping | {"FAC": "LOCATION"}
        super().__init__(
            models=[{"lang_code": LANGUAGE, "model_name": nlp.meta.get("name", "preloaded")}],
            ner_model_configuration=NerModelConfiguration(model_to_presidio_entity_mapping=mapping),
        )
        self.nlp = {LANGUAGE: nlp}

    def load(self) -> None:
        """Already loaded in __init__; overriding stops the base class from resolving a model name."""

    def artifacts(self, doc: Doc) -> NlpArtifacts:
        """Presidio's view of a Doc the pipeline has already parsed."""
        return self._doc_to_nlp_artifact(doc, LANGUAGE)


def build_analyzer(nlp: Language, trimmed: bool = True) -> tuple[AnalyzerEngine, PreloadedSpacyEngine]:
    """An AnalyzerEngine over `nlp`: trimmed for postcheck, or Presidio's defaults for the baseline."""
    engine = PreloadedSpacyEngine(nlp)
    registry = RecognizerRegistry(supported_languages=[LANGUAGE])
    if trimmed:
        for recognizer in (
            SpacyRecognizer(supported_entities=["PERSON", "LOCATION"]),
            OfflineEmailRecognizer(),
            PhoneRecognizer(),
            UrlRecognizer(),
            UsSsnRecognizer(),
        ):
            registry.add_recognizer(recognizer)
    else:
        registry.load_predefined_recognizers(languages=[LANGUAGE], nlp_engine=engine)
        registry.remove_recognizer("EmailRecognizer")
        registry.add_recognizer(OfflineEmailRecognizer())
    analyzer = AnalyzerEngine(nlp_engine=engine, registry=registry, supported_languages=[LANGUAGE])
    return analyzer, engine


def analyze_doc(
    analyzer: AnalyzerEngine,
    engine: PreloadedSpacyEngine,
    doc: Doc,
    entities: Iterable[str] | None = TRIMMED_ENTITIES,
) -> list[RecognizerResult]:
    """Run the recognizers over an existing parse (no second NLP pass)."""
    return analyzer.analyze(
        text=doc.text,
        language=LANGUAGE,
        entities=list(entities) if entities is not None else None,
        nlp_artifacts=engine.artifacts(doc),
    )
