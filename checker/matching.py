"""Compile every rule's patterns once, then find candidates in a parsed draft.

Phrases go to spaCy PhraseMatchers (on lower-case text unless a rule is case-sensitive), token patterns
to spaCy Matchers, regexes (checked linear at load) run over the text and snap to token edges; token
patterns and regexes are skipped on drafts that lack what they need (checker/fast/prefilter.py).
Lexicons referenced with '@name' are matched by the same machinery, so context conditions can ask
"is there an encounter word in this sentence" without re-scanning the text. A token pattern may name a
lexicon as (or within) the list of an IN or NOT_IN test (`{LEMMA: {IN: "@derogatory_slang"}}`), so an
organisation's pack that extends the lexicon extends the pattern too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from checker.candidates import Candidate
from checker.errors import RuleFileError
from checker.fast.prefilter import AnchoredMatcher, LiteralIndex, Literals, fold, literal_check, required_literals
from checker.regexes import EncodedDraft, RuleRegex, token_regexes_on_re2
from checker.rules import Rule, RuleSet, lexicon_ref

_LEXICON_KEY = "lexicon:"


@dataclass
class CompiledRules:
    """Matchers for one RuleSet over one pipeline's vocabulary."""

    ruleset: RuleSet
    phrase_lower: PhraseMatcher
    phrase_exact: PhraseMatcher
    tokens: AnchoredMatcher
    # Each regex with the literals one of which it needs (checker/fast/prefilter.py), to skip drafts without them.
    regexes: list[tuple[Rule, RuleRegex, Literals | None]]
    literals: LiteralIndex

    def find(self, doc: Doc, text: str) -> list[Candidate]:
        """Every pattern match of every rule, as candidates (overlaps are resolved later). `text` is the
        draft (`doc.text`, which spaCy rebuilds from the tokens on every access, read once by the caller)."""
        by_id = {rule.id: rule for rule in self.ruleset.evaluated}
        folded = fold(text)
        found: list[Candidate] = []
        for match_id, start, end in (*self.phrase_lower(doc), *self.phrase_exact(doc), *self.tokens(doc, folded)):
            key = doc.vocab.strings[match_id]
            if key in by_id:
                span = doc[start:end]
                found.append(Candidate(by_id[key], span.start_char, span.end_char, start, end))
        present = self.literals.present(folded)
        encoded: EncodedDraft | None = None  # encoded once, when the first regex has to run
        for rule, regex, literals in self.regexes:
            if not literal_check(literals, folded, present):
                continue
            encoded = encoded or EncodedDraft(text)
            for start, end in regex.spans(encoded):
                candidate = _snap(doc, text, rule, start, end)
                if candidate:
                    found.append(candidate)
        return found

    def lexicon_hits(self, doc: Doc) -> dict[str, list[tuple[int, int]]]:
        """Token spans where each lexicon occurs, keyed by lexicon name."""
        hits: dict[str, list[tuple[int, int]]] = {}
        for match_id, start, end in self.phrase_lower(doc):
            key = doc.vocab.strings[match_id]
            if key.startswith(_LEXICON_KEY):
                hits.setdefault(key[len(_LEXICON_KEY):], []).append((start, end))
        return hits


def compile_rules(ruleset: RuleSet, nlp: Language) -> CompiledRules:
    """Build the matchers; a token pattern spaCy rejects is reported with its rule id."""
    phrase_lower = PhraseMatcher(nlp.vocab, attr="LOWER")
    phrase_exact = PhraseMatcher(nlp.vocab, attr="ORTH")
    tokens = AnchoredMatcher(nlp.vocab)
    regexes: list[tuple[Rule, RuleRegex, Literals | None]] = []

    # Tokenizer only: phrases must tokenize as drafts do, but need no tagging or parsing.
    def as_docs(words):
        return list(nlp.tokenizer.pipe(sorted(words)))

    for name, words in ruleset.lexicons.items():
        phrase_lower.add(_LEXICON_KEY + name, as_docs(words))
    for rule in ruleset.evaluated:
        phrases: set[str] = set()
        for phrase in rule.phrases:
            name = lexicon_ref(phrase)
            if name:
                if name not in ruleset.lexicons:
                    raise RuleFileError(f"{rule.source}: rule '{rule.id}': unknown lexicon '{phrase}'")
                phrases.update(ruleset.lexicons[name])
            else:
                phrases.add(phrase)
        if phrases:
            target = phrase_exact if rule.case_sensitive else phrase_lower
            target.add(rule.id, as_docs(phrases))
        if rule.tokens:
            patterns = [_expand_lexicons(rule, pattern, ruleset) for pattern in rule.tokens]
            try:
                tokens.add(rule.id, patterns, [token_regexes_on_re2(p) for p in patterns], greedy="LONGEST")
            except (ValueError, KeyError, TypeError) as error:
                # spaCy's first line names no field; the last one says which token and what is wrong.
                lines = [line.strip() for line in str(error).splitlines() if line.strip()]
                reason = lines[-1][:200] if lines else type(error).__name__
                raise RuleFileError(f"{rule.source}: rule '{rule.id}': field 'patterns.tokens': {reason}") from None
        flags = 0 if rule.case_sensitive else re.IGNORECASE
        for regex in rule.regex:
            regexes.append((rule, regex, _literals_of(regex.pattern, flags)))
    literals = LiteralIndex(required for _, _, required in regexes)
    return CompiledRules(ruleset, phrase_lower, phrase_exact, tokens, regexes, literals)


def _literals_of(pattern: str, flags: int) -> Literals | None:
    """The literals a regex needs, read by Python's regex parser where it can read the pattern (RE2's
    syntax is nearly a subset of it); a pattern it cannot read is always run."""
    try:
        return required_literals(re.compile(pattern, flags))
    except (re.error, RecursionError, OverflowError):
        return None


def _expand_lexicons(rule: Rule, pattern, ruleset: RuleSet) -> list[dict]:
    """Replace '@name' in IN / NOT_IN tests with that lexicon's words (multi-word entries never match one
    token, so they are harmless here and still serve the lexicon's phrase uses)."""
    expanded = []
    for token in pattern:
        spec = {}
        for attribute, value in token.items():
            if isinstance(value, dict):
                value = {test: _lexicon_words(rule, argument, ruleset) if test in ("IN", "NOT_IN") else argument
                         for test, argument in value.items()}
            spec[attribute] = value
        expanded.append(spec)
    return expanded


def _lexicon_words(rule: Rule, argument, ruleset: RuleSet):
    """An IN / NOT_IN list with '@name' entries (or a bare '@name') replaced by those lexicons' words."""
    items = [argument] if isinstance(argument, str) else argument
    if not isinstance(items, list) or not any(isinstance(i, str) and lexicon_ref(i) for i in items):
        return argument
    words: set[str] = set()
    for item in items:
        name = lexicon_ref(item) if isinstance(item, str) else None
        if not name:
            words.add(item)
        elif name in ruleset.lexicons:
            words.update(ruleset.lexicons[name])
        else:
            raise RuleFileError(f"{rule.source}: rule '{rule.id}': field 'patterns.tokens': unknown lexicon '{item}'")
    return sorted(words)


def _snap(doc: Doc, text: str, rule: Rule, start: int, end: int) -> Candidate | None:
    """Align a character match to whole tokens. Whitespace at the match's edges is not part of any
    token, so it is trimmed first; a match of nothing but whitespace flags nothing."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start == end:
        return None
    span = doc.char_span(start, end, alignment_mode="expand")
    if span is None or not len(span):
        return None
    return Candidate(rule, start, end, span.start, span.end)
