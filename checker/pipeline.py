"""Load once, check many: the Checker that every transport (CLI, HTTP, library) calls.

One spaCy pass per draft (`nlp(text)` or batched `nlp.pipe`) feeds every detector; the report step
merges what they found. Loading the model and compiling the rules happen once, in `__init__`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Collection, Iterable, Iterator, TypeVar

from spacy.tokens import Doc

from checker.advice import Rewriter, safer_draft
from checker.candidates import Candidate
from checker.config import load_config
from checker.context import DraftContext, counts
from checker.detectors import Detector
from checker.detectors.entities import EntityDetector
from checker.detectors.patterns import PatternDetector
from checker.detectors.sentiment import SentimentDetector, build_analyzer
from checker.errors import InputError
from checker.markers import NO_MARKERS, Markers, read_markers
from checker.markup import mask_markup
from checker.matching import compile_rules
from checker.model import load_pipeline
from checker.report import Finding, Report, merge_overlaps, to_finding, verdict_of
from checker.risk import assess
from checker.tokenize import DEFAULT_MAX_TOKENS, BoundedTokenizer
from checker.rules import RuleSet, load_rules

# A long blog post is ~20,000 characters; 50,000 is still a post, bounds the work one request can
# cause, and keeps a checker process under 400 MB at its peak (the parse of 100,000 characters alone
# needs ~520 MB). Library users with other needs pass `max_chars`.
DEFAULT_MAX_CHARS = 50_000
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
        max_tokens: int = DEFAULT_MAX_TOKENS,
        ruleset: RuleSet | None = None,
        config_path: str | os.PathLike | None = None,
        use_user_config: bool = False,
    ):
        """Everything the checker does is in its arguments: it reads no config file and no environment
        variable unless asked (the CLI and the service resolve settings into arguments, see
        checker/config.py). Asking: `config_path` applies that settings file's `disable` and `[allow]`,
        and `use_user_config=True` the user's own (POSTCHECK_CONFIG, else the platform's config.toml)."""
        ruleset = ruleset or load_rules([Path(d) for d in rule_dirs])
        if config_path is not None or use_user_config:
            settings = load_config(config_path)
            settings.check_rule_ids(ruleset)
            disable, allow = (*disable, *settings.disable), (*allow, *settings.allow_words)
        self.known_ids = frozenset(rule.id for rule in ruleset.rules)  # for inline markers, even disabled ones
        self.ruleset = ruleset.without(disable).with_allowed(allow)
        self.nlp = load_pipeline(model)
        self.max_chars = max_chars
        self.tokenizer = BoundedTokenizer(self.nlp.tokenizer, self.nlp.vocab, max_tokens)
        self.author_names = _name_parts(author)
        self.compiled = compile_rules(self.ruleset, self.nlp)
        # One sentiment analyzer (VADER with clinical words neutralised) for the detector and for the
        # context conditions that ask whether a sentence is positive.
        self.analyzer = build_analyzer(self.ruleset)
        self.detectors: list[Detector] = [
            PatternDetector(self.compiled),
            EntityDetector(self.nlp, self.ruleset),
            SentimentDetector(self.ruleset, self.analyzer),
        ]
        self.rewriter = Rewriter(self.ruleset.rules)
        self.risk_only = frozenset(rule.id for rule in self.ruleset.rules if rule.risk_only)

    # -- public API ---------------------------------------------------------------------------------
    def check(self, text: str, author: str | None = None, disable: Collection[str] = ()) -> Report:
        """Check one draft; `disable` turns rules off for this draft only (the HTTP service's per-request
        option), exactly as if the Checker had been built without them."""
        disabled = self._disabled(disable)
        doc = self.parse(text)
        return self._report(doc, text, author, disabled, read_markers(text, self.known_ids))

    def check_many(self, texts: Iterable[str], author: str | None = None) -> Iterator[Report]:
        """Check many drafts with spaCy's batching; reports come back in input order, lazily.

        The first draft that cannot be checked raises InputError; `check_stream` reports it instead.
        """
        for _, outcome in self.check_stream(((None, text) for text in texts), author):
            if isinstance(outcome, InputError):
                raise outcome
            yield outcome

    def check_stream(
        self, items: Iterable[tuple[K, str]], author: str | None = None, disable: Collection[str] = ()
    ) -> Iterator[tuple[K, Report | InputError]]:
        """Check (key, text) pairs in batches, keeping order; a bad draft yields its InputError in place
        of a report so one empty line does not stop a scan of thousands."""
        disabled = self._disabled(disable)

        def prepared() -> Iterator[tuple[Doc | str, tuple[K, str, Markers, InputError | None]]]:
            for key, text in items:
                try:
                    self.validate(text)
                    markers = read_markers(text, self.known_ids)
                    tokens = self.tokenizer(mask_markup(text))
                except InputError as error:
                    yield "", (key, "", NO_MARKERS, error)
                else:
                    yield tokens, (key, text, markers, None)

        for doc, (key, text, markers, error) in self.nlp.pipe(prepared(), as_tuples=True, batch_size=BATCH_SIZE):
            yield key, error if error is not None else self._report(doc, text, author, disabled, markers)

    def explain(self, text: str) -> list[Finding]:
        """Every rule match that survived its context, before overlaps are merged: which rules fired.

        `check` reports one finding per flagged span; this shows all the rules behind it, which is what
        a rule author (and each rule's example test) needs to see.
        """
        doc = self.parse(text)
        ctx, candidates = self._candidates(doc, None)
        return [to_finding(text, c) for c in candidates]

    def parse(self, text: str) -> Doc:
        """The one spaCy pass every detector reads: bounded tokenization (checker/tokenize.py), then the
        pipeline's tagger, parser and entity recognizer. Markup (Markdown and HTML links, tags, comments)
        is first rewritten as it reads in plain text (checker/markup.py), so the parse never takes its
        syntax for prose; the offsets are the draft's own."""
        self.validate(text)
        return self.nlp(self.tokenizer(mask_markup(text)))

    def validate(self, text: str) -> None:
        """Raise InputError for drafts that cannot be checked; messages carry sizes, never content."""
        if not isinstance(text, str):
            raise InputError(f"draft must be text, got {type(text).__name__}")
        if not text.strip():
            raise InputError("draft is empty")
        if len(text) > self.max_chars:
            raise InputError(f"draft is {len(text)} characters; the limit is {self.max_chars}")
        try:  # JSON and JavaScript can carry half an emoji (a lone surrogate); no report could be encoded
            text.encode("utf-8")
        except UnicodeEncodeError as error:
            raise InputError(f"draft is not valid Unicode (unpaired surrogate at character {error.start})") from None

    # -- internals ----------------------------------------------------------------------------------
    def _disabled(self, rule_ids: Collection[str]) -> frozenset[str]:
        """Rule ids to skip for one call; an unknown id is an error so a typo does not pass silently."""
        unknown = self.ruleset.unknown_ids(rule_ids)
        if unknown:
            raise InputError(f"cannot disable unknown rule id(s): {', '.join(unknown)}")
        return frozenset(rule_ids)

    def _candidates(
        self, doc: Doc, author: str | None, disabled: frozenset[str] = frozenset()
    ) -> tuple[DraftContext, list[Candidate]]:
        """Run every detector over the parse and keep the candidates their rules' context allows."""
        names = self.author_names | _name_parts(author)
        ctx = DraftContext(doc, self.compiled.lexicon_hits(doc), self.ruleset, names, polarity=self._polarity)
        candidates: list[Candidate] = []
        for detector in self.detectors:
            candidates.extend(c for c in detector(doc, ctx) if c.rule.id not in disabled)
        # Matches that show a sentence is about a patient ("a 97-year-old") and count on their own
        # terms make that sentence an encounter for every other rule's context.
        ctx.mark_patient({ctx.sentence_index(c) for c in candidates if c.rule.marks_patient and counts(ctx, c)})
        # Then sentences that vent at someone (warning or error), so a name there is flagged as tagging them.
        ctx.mark_venting({ctx.sentence_index(c) for c in candidates
                          if c.rule.category == "venting" and (c.severity or c.rule.severity) != "info" and counts(ctx, c)})
        return ctx, [c for c in candidates if counts(ctx, c)]

    def _polarity(self, text: str) -> float:
        return self.analyzer.polarity_scores(text)["compound"]

    def _report(self, doc: Doc, text: str, author: str | None, disabled: frozenset[str],
                markers: Markers) -> Report:
        """`text` is the draft as written; `doc` was parsed from its plain-text reading (same offsets);
        `markers` are its inline <!-- postcheck-disable RULE --> comments (checker/markers.py)."""
        ctx, candidates = self._candidates(doc, author, disabled)
        findings = [to_finding(text, c) for c in candidates if markers.allows(c.rule.id, c.start)]
        risk, findings = assess(findings, ctx.patient_draft)
        # Details that are safe on their own (a decade) count toward the risk, never as findings.
        findings = merge_overlaps(text, [f for f in findings if f.rule not in self.risk_only])
        findings = self.rewriter.advise(findings, text, doc)
        return Report(verdict_of(findings), tuple(findings), safer_draft(text, findings), risk)


def _name_parts(author: str | None) -> frozenset[str]:
    """"Alex Kim" or "Kim, Alex" -> {"alex", "kim"}: each part of the author's name, matched by token."""
    return frozenset(part.lower() for part in (author or "").replace(",", " ").split())


_default: Checker | None = None


def check(text: str) -> Report:
    """Check one draft with a shared default Checker (loaded on first use)."""
    global _default
    if _default is None:
        _default = Checker()
    return _default.check(text)

