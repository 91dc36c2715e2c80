"""Load once, check many: the Checker that every transport (CLI, HTTP, library) calls.

One spaCy pass per draft (`nlp(text)` or batched `nlp.pipe`) feeds every detector; the report step
merges what they found. Loading the model and compiling the rules happen once, in `__init__`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Iterator, TypeVar

from spacy.tokens import Doc

from checker.candidates import Candidate
from checker.context import DraftContext, counts
from checker.detectors import Detector
from checker.detectors.entities import EntityDetector
from checker.detectors.patterns import PatternDetector
from checker.errors import InputError
from checker.matching import compile_rules
from checker.model import load_pipeline
from checker.report import Finding, Report, merge_overlaps, redact, to_finding, verdict_of
from checker.rules import RuleSet, load_rules, rule_dirs_from_env

# A long blog post is ~20,000 characters; five times that is still a post, and bounds the work one
# request can cause. Library users with other needs pass `max_chars`.
DEFAULT_MAX_CHARS = 100_000
BATCH_SIZE = 64
K = TypeVar("K")


class Checker:
    """Holds the loaded model, the compiled rules and the detectors; `check` is safe to call repeatedly."""

    def __init__(
        self,
        model: str | None = None,
        rule_dirs: Iterable[str | os.PathLike] = (),
        disable: Iterable[str] = (),
        allow: Iterable[str] = (),
        author: str | None = None,
        max_chars: int = DEFAULT_MAX_CHARS,
        ruleset: RuleSet | None = None,
    ):
        dirs = [Path(d) for d in rule_dirs] + rule_dirs_from_env()
        ruleset = ruleset or load_rules(dirs)
        self.ruleset = ruleset.without(disable).with_allowed(allow)
        self.nlp = load_pipeline(model)
        self.max_chars = max_chars
        self.author_names = frozenset(part.lower() for part in (author or "").replace(",", " ").split())
        self.compiled = compile_rules(self.ruleset, self.nlp)
        self.detectors: list[Detector] = [
            PatternDetector(self.compiled),
            EntityDetector(self.nlp, self.ruleset),
        ]
        self.placeholders = {rule.id: rule.redact for rule in self.ruleset.rules if rule.redact}

    # -- public API ---------------------------------------------------------------------------------
    def check(self, text: str, author: str | None = None) -> Report:
        """Check one draft."""
        self.validate(text)
        return self._report(self.nlp(text), author)

    def check_many(self, texts: Iterable[str], author: str | None = None) -> Iterator[Report]:
        """Check many drafts with spaCy's batching; reports come back in input order, lazily.

        The first draft that cannot be checked raises InputError; `check_stream` reports it instead.
        """
        for _, outcome in self.check_stream(((None, text) for text in texts), author):
            if isinstance(outcome, InputError):
                raise outcome
            yield outcome

    def check_stream(
        self, items: Iterable[tuple[K, str]], author: str | None = None
    ) -> Iterator[tuple[K, Report | InputError]]:
        """Check (key, text) pairs in batches, keeping order; a bad draft yields its InputError in place
        of a report so one empty line does not stop a scan of thousands."""
        def prepared() -> Iterator[tuple[str, tuple[K, InputError | None]]]:
            for key, text in items:
                try:
                    self.validate(text)
                except InputError as error:
                    yield "", (key, error)
                else:
                    yield text, (key, None)

        for doc, (key, error) in self.nlp.pipe(prepared(), as_tuples=True, batch_size=BATCH_SIZE):
            yield key, error if error is not None else self._report(doc, author)

    def explain(self, text: str) -> list[Finding]:
        """Every rule match that survived its context, before overlaps are merged: which rules fired.

        `check` reports one finding per flagged span; this shows all the rules behind it, which is what
        a rule author (and each rule's example test) needs to see.
        """
        self.validate(text)
        doc = self.nlp(text)
        ctx, candidates = self._candidates(doc, None)
        return [to_finding(text, c) for c in candidates]

    def validate(self, text: str) -> None:
        """Raise InputError for drafts that cannot be checked; messages carry sizes, never content."""
        if not isinstance(text, str):
            raise InputError(f"draft must be text, got {type(text).__name__}")
        if not text.strip():
            raise InputError("draft is empty")
        if len(text) > self.max_chars:
            raise InputError(f"draft is {len(text)} characters; the limit is {self.max_chars}")

    # -- internals ----------------------------------------------------------------------------------
    def _candidates(self, doc: Doc, author: str | None) -> tuple[DraftContext, list[Candidate]]:
        """Run every detector over the parse and keep the candidates their rules' context allows."""
        names = self.author_names | frozenset(p.lower() for p in (author or "").replace(",", " ").split())
        ctx = DraftContext(doc, self.compiled.lexicon_hits(doc), self.ruleset, names)
        candidates: list[Candidate] = []
        for detector in self.detectors:
            candidates.extend(detector(doc, ctx))
        # Matches that show a sentence is about a patient ("a 97-year-old") and count on their own
        # terms make that sentence an encounter for every other rule's context.
        ctx.mark_patient({ctx.sentence_index(c) for c in candidates if c.rule.marks_patient and counts(ctx, c)})
        return ctx, [c for c in candidates if counts(ctx, c)]

    def _report(self, doc: Doc, author: str | None) -> Report:
        ctx, candidates = self._candidates(doc, author)
        findings = merge_overlaps(ctx.text, (to_finding(ctx.text, c) for c in candidates))
        return Report(verdict_of(findings), tuple(findings), redact(ctx.text, findings, self.placeholders))


_default: Checker | None = None


def check(text: str) -> Report:
    """Check one draft with a shared default Checker (loaded on first use)."""
    global _default
    if _default is None:
        _default = Checker()
    return _default.check(text)

