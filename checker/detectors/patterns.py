"""The pattern detector: phrase lists, spaCy token patterns and regexes from every rule file."""

from __future__ import annotations

from spacy.tokens import Doc

from checker.candidates import Candidate
from checker.context import DraftContext
from checker.matching import CompiledRules


class PatternDetector:
    """Runs the matchers compiled once from the rule set."""

    def __init__(self, compiled: CompiledRules):
        self.compiled = compiled

    def __call__(self, doc: Doc, ctx: DraftContext) -> list[Candidate]:
        return self.compiled.find(doc, ctx.text)
