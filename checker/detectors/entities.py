"""The entity detector: Presidio's recognizers over the shared parse, routed to rules by entity type.

Rules say which Presidio entities they take (`patterns.entities: [PERSON]`) and a minimum score;
the trimmed AnalyzerEngine in `presidio_engine.py` only runs the recognizers those rules need.
"""

from __future__ import annotations

from spacy.tokens import Doc

from checker.candidates import Candidate
from checker.context import DraftContext
from checker.presidio_engine import analyze_doc, build_presidio_analyzer
from checker.rules import Rule, RuleSet


class EntityDetector:
    """Maps Presidio results onto the rules that asked for their entity type."""

    def __init__(self, nlp, ruleset: RuleSet):
        self.routes: dict[str, list[Rule]] = {}
        for rule in ruleset.evaluated:
            for entity in rule.entities:
                self.routes.setdefault(entity, []).append(rule)
        self.analyzer, self.engine = build_presidio_analyzer(nlp)

    def __call__(self, doc: Doc, ctx: DraftContext) -> list[Candidate]:
        if not self.routes or not len(doc):
            return []
        found: list[Candidate] = []
        for result in analyze_doc(self.analyzer, self.engine, doc, self.routes, text=ctx.text):
            if "\n" in ctx.text[result.start:result.end]:  # no name or place runs across a line break
                continue
            span = doc.char_span(result.start, result.end, alignment_mode="expand")
            if span is None:
                continue
            for rule in self.routes.get(result.entity_type, ()):
                if result.score >= rule.min_score:
                    found.append(Candidate(rule, result.start, result.end, span.start, span.end))
        return found
