"""Load once, check many: the Checker that every transport (CLI, HTTP, library) calls.

One spaCy pass per draft (`nlp(text)` or batched `nlp.pipe`) feeds every detector; the report step
merges what they found. Loading the model and compiling the rules happen once, in `__init__`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Collection, Iterable, Iterator, TypeVar

from spacy.tokens import Doc

from checker.advice import Rewriter, safer_draft
from checker.candidates import Candidate
from checker.config import with_settings_file
from checker.context import DraftContext
from checker.detectors import Detector
from checker.detectors.entities import EntityDetector
from checker.detectors.patterns import PatternDetector
from checker.detectors.sentiment import SentimentDetector, build_sentiment_analyzer
from checker.detectors.signals import SignalDetector
from checker.errors import InputError
from checker.fast.pipeline import FastPipeline
from checker.markers import NO_MARKERS, Markers, read_markers
from checker.markup import mask_markup
from checker.matching import compile_rules
from checker.model import load_pipeline
from checker.report import Finding, Report, merge_overlaps, to_finding, verdict_of
from checker.risk import assess
from checker.tokenize import DEFAULT_MAX_TOKENS, BoundedTokenizer
from checker.rules import RuleSet, load_rules
from checker.signals import Signals
from checker.spans import SpanIndex

# A long blog post is ~20,000 characters; 50,000 is still a post, bounds the work one request can
# cause, and keeps a checker process under 400 MB at its peak (the parse of 100,000 characters alone
# needs ~520 MB). Library users with other needs pass `max_chars`.
DEFAULT_MAX_CHARS = 50_000
BATCH_SIZE = 64
BATCH_CHARS = 50_000
# The risk step combines quasi-identifiers only in a draft where some sentence narrates an encounter.
RISK_FACT = "encounter"
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
        learned: bool = True,
    ):
        """Everything the checker does is in its arguments: it reads no config file and no environment
        variable unless asked (the CLI and the service resolve settings into arguments, see
        checker/config.py). Asking: `config_path` applies that settings file's `disable` and `[allow]`,
        and `use_user_config=True` the user's own (POSTCHECK_CONFIG, else the platform's config.toml).
        `learned=False` leaves the learned signals out (checker/signals.py): the rules alone, as
        `postcheck eval --baseline rules` measures them."""
        ruleset = ruleset or load_rules([Path(d) for d in rule_dirs])
        disable, allow = with_settings_file(ruleset, disable, allow, config_path, use_user_config)
        self.known_ids = frozenset(rule.id for rule in ruleset.rules)  # for inline markers, even disabled ones
        self.ruleset = ruleset.without(disable).with_allowed(allow)
        self.nlp = load_pipeline(model)
        # Loaded once; a missing or corrupt weights file is a ModelError (exit 3), never a silent fallback.
        self.signals = Signals.load() if learned else None
        self.pipeline = FastPipeline(self.nlp)
        self.max_chars = max_chars
        self.tokenizer = BoundedTokenizer(self.nlp.tokenizer, self.nlp.vocab, max_tokens)
        self.author_names = _name_parts(author)
        self.compiled = compile_rules(self.ruleset, self.nlp)
        # One sentiment analyzer (VADER with clinical words neutralised) for the detector and for the
        # context predicate that asks whether a sentence is positive.
        self.analyzer = build_sentiment_analyzer(self.ruleset)
        self.detectors: list[Detector] = [
            PatternDetector(self.compiled),
            EntityDetector(self.nlp, self.ruleset),
            SentimentDetector(self.ruleset, self.analyzer),
            SignalDetector(self.ruleset),
        ]
        self.rules_by_id = {rule.id: rule for rule in self.ruleset.evaluated}
        self.rewriter = Rewriter(self.ruleset.evaluated)
        self.risk_only = frozenset(rule.id for rule in self.ruleset.evaluated if rule.risk_only)
        # Rules that mark a whole sentence (a learned signal's): a word rule's mark inside one wins.
        self.wide = frozenset(rule.id for rule in self.ruleset.evaluated if rule.signal)

    # -- public API ---------------------------------------------------------------------------------
    def check(self, text: str, author: str | None = None, disable: Collection[str] = (),
              allow: Collection[str] = ()) -> Report:
        """Check one draft; `disable` turns rules off for this draft only (the HTTP service's per-request
        option), exactly as if the Checker had been built without them. `allow` accepts words or phrases
        for this draft only: a match that lies within one of them (any case) is not a finding."""
        disabled, allowed = self._disabled(disable), _allowed(allow)
        return self._report(self.parse(text), text, author, disabled, allowed, read_markers(text, self.known_ids))

    def check_many(self, texts: Iterable[str], author: str | None = None) -> Iterator[Report]:
        """Check many drafts with spaCy's batching; reports come back in input order, lazily.

        The first draft that cannot be checked raises InputError; `check_stream` reports it instead.
        """
        for _, outcome in self.check_stream(((None, text) for text in texts), author):
            if isinstance(outcome, InputError):
                raise outcome
            yield outcome

    def check_stream(
        self, items: Iterable[tuple[K, str]], author: str | None = None, disable: Collection[str] = (),
        allow: Collection[str] = (),
    ) -> Iterator[tuple[K, Report | InputError]]:
        """Check (key, text) pairs in batches, keeping order; a bad draft yields its InputError in place
        of a report so one empty line does not stop a scan of thousands. `disable` and `allow` as for
        `check`, for every draft.

        A batch holds at most BATCH_SIZE drafts and BATCH_CHARS characters (one draft over that is a
        batch of its own), so memory is bounded by characters in flight, not by a count of drafts:
        a hundred drafts of 10,000 characters parsed at once peaked at 1.7 GB."""
        disabled, allowed = self._disabled(disable), _allowed(allow)
        for batch in _batches(self._tokenized(items), BATCH_SIZE, BATCH_CHARS):
            docs = self.pipeline.pipe([tokens for _, tokens, _ in batch if not isinstance(tokens, InputError)],
                                      batch_size=len(batch))
            for key, tokens, (text, markers) in batch:
                yield key, tokens if isinstance(tokens, InputError) else \
                    self._report(next(docs), text, author, disabled, allowed, markers)

    def _tokenized(self, items: Iterable[tuple[K, str]]) -> Iterator[tuple[K, Doc | InputError, tuple[str, Markers]]]:
        for key, text in items:
            try:
                self.validate(text)
                yield key, self.tokenizer(mask_markup(text)), (text, read_markers(text, self.known_ids))
            except InputError as error:
                yield key, error, ("", NO_MARKERS)

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
        return self.pipeline(self.tokenizer(mask_markup(text)))

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
        self, doc: Doc, author: str | None, disabled: frozenset[str] = frozenset(),
        allowed: tuple[re.Pattern[str], ...] = (),
    ) -> tuple[DraftContext, list[Candidate]]:
        """Run every detector over the parse, then each rule's context in the order the loader fixed
        (checker/facts.py), so every fact a rule reads is complete when it reads it. Matches that count
        set their rules' facts; silenced ones (a disabled rule, an allowed word) set them too and are only
        left out of what is returned."""
        names = self.author_names | _name_parts(author)
        ruleset = self.ruleset
        ctx = DraftContext(doc, self.compiled.lexicon_hits(doc), ruleset.lexicons, ruleset.facts, names,
                           polarity=self._polarity, learned=self.signals)
        candidates = [c for detector in self.detectors for c in detector(doc, ctx)]
        by_rule: dict[str, list[int]] = {}
        for index, candidate in enumerate(candidates):
            by_rule.setdefault(candidate.rule.id, []).append(index)
        silenced_rules = {rule.id for rule in ruleset.silenced} | disabled
        accepted = SpanIndex(match.span() for pattern in allowed for match in pattern.finditer(ctx.text))
        kept = [False] * len(candidates)
        deferred: list[int] = []  # matches of rules that read a fact they set: reported once it is complete
        for rule_id in ruleset.order:
            rule, context = self.rules_by_id[rule_id], ruleset.contexts[rule_id]
            for index in by_rule.get(rule_id, ()):
                candidate = candidates[index]
                text = ctx.text[candidate.start:candidate.end].lower()
                if text in rule.allow:  # the rule's own exceptions: not its match at all
                    continue
                silenced = rule_id in silenced_rules or text in ruleset.allow_words \
                    or accepted.contains(candidate.start, candidate.end)
                if context.survives(ctx, candidate):
                    if rule.sets and (candidate.severity or rule.severity) != "info":
                        for fact in rule.sets:
                            ctx.set_fact(fact, ctx.sentence_index(candidate))
                    kept[index] = not silenced
                if rule_id in ruleset.report_contexts and not silenced:
                    deferred.append(index)
        for index in deferred:
            kept[index] = ruleset.report_contexts[candidates[index].rule.id].survives(ctx, candidates[index])
        return ctx, [candidate for index, candidate in enumerate(candidates) if kept[index]]

    def _polarity(self, text: str) -> float:
        return self.analyzer.polarity_scores(text)["compound"]

    def _report(self, doc: Doc, text: str, author: str | None, disabled: frozenset[str],
                allowed: tuple[re.Pattern[str], ...], markers: Markers) -> Report:
        """`text` is the draft as written; `doc` was parsed from its plain-text reading (same offsets);
        `markers` are its inline <!-- postcheck-disable RULE --> comments (checker/markers.py)."""
        ctx, candidates = self._candidates(doc, author, disabled, allowed)
        findings = [to_finding(text, c) for c in candidates if markers.allows(c.rule.id, c.start)]
        risk, findings = assess(findings, ctx.fact_anywhere(RISK_FACT))
        # Details that are safe on their own (a decade) count toward the risk, never as findings.
        findings = merge_overlaps(text, [f for f in findings if f.rule not in self.risk_only], self.wide)
        findings = self.rewriter.advise(findings, text, doc)
        return Report(verdict_of(findings), tuple(findings), safer_draft(text, findings), risk)


def _batches(items: Iterable[tuple], size: int, chars: int) -> Iterator[list[tuple]]:
    """Consecutive runs of (key, tokens or error, extra) items with at most `size` items and `chars`
    characters of drafts each."""
    batch: list[tuple] = []
    held = 0
    for item in items:
        tokens = item[1]
        length = 0 if isinstance(tokens, InputError) else tokens[-1].idx + len(tokens[-1].text_with_ws)
        if batch and (len(batch) >= size or held + length > chars):
            yield batch
            batch, held = [], 0
        batch.append(item)
        held += length
    if batch:
        yield batch


def _allowed(words: Collection[str]) -> tuple[re.Pattern[str], ...]:
    """One case-insensitive pattern per allowed word or phrase (each on its own, so overlapping ones
    all count); blank ones are skipped. Errors name the position, never the word."""
    patterns = []
    for position, word in enumerate(words):
        if not isinstance(word, str):
            raise InputError(f"allow word {position + 1} must be text, got {type(word).__name__}")
        if word.strip():
            patterns.append(re.compile(re.escape(word.strip()), re.IGNORECASE))
    return tuple(patterns)


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

