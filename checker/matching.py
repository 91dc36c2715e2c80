"""Compile every rule's patterns once, then find candidates in a parsed draft.

Phrases go to spaCy PhraseMatchers (on lower-case text unless a rule is case-sensitive), token patterns
to one spaCy Matcher, regexes (checked linear at load) run over the text and snap to token edges.
Lexicons referenced with '@name' are matched by the same machinery, so context conditions can ask
"is there an encounter word in this sentence" without re-scanning the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc

from checker.candidates import Candidate
from checker.errors import RuleFileError
from checker.rules import Rule, RuleSet

_LEXICON_KEY = "lexicon:"


@dataclass
class CompiledRules:
    """Matchers for one RuleSet over one pipeline's vocabulary."""

    ruleset: RuleSet
    phrase_lower: PhraseMatcher
    phrase_exact: PhraseMatcher
    tokens: Matcher
    regexes: list[tuple[Rule, re.Pattern[str]]]

    def find(self, doc: Doc) -> list[Candidate]:
        """Every pattern match of every rule, as candidates (overlaps are resolved later)."""
        by_id = {rule.id: rule for rule in self.ruleset.rules}
        found: list[Candidate] = []
        for matcher in (self.phrase_lower, self.phrase_exact, self.tokens):
            for match_id, start, end in matcher(doc):
                key = doc.vocab.strings[match_id]
                if key in by_id:
                    span = doc[start:end]
                    found.append(Candidate(by_id[key], span.start_char, span.end_char, start, end))
        text = doc.text  # rebuilt from the tokens on every access: read it once
        for rule, pattern in self.regexes:
            for match in pattern.finditer(text):
                candidate = _snap(doc, rule, match.start(), match.end())
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
    tokens = Matcher(nlp.vocab)
    regexes: list[tuple[Rule, re.Pattern[str]]] = []

    # Tokenizer only: phrases must tokenize as drafts do, but need no tagging or parsing.
    def as_docs(words):
        return list(nlp.tokenizer.pipe(sorted(words)))

    for name, words in ruleset.lexicons.items():
        phrase_lower.add(_LEXICON_KEY + name, as_docs(words))
    for rule in ruleset.rules:
        phrases: set[str] = set()
        for phrase in rule.phrases:
            if phrase.startswith("@"):
                if phrase[1:] not in ruleset.lexicons:
                    raise RuleFileError(f"{rule.source}: rule '{rule.id}': unknown lexicon '{phrase}'")
                phrases.update(ruleset.lexicons[phrase[1:]])
            else:
                phrases.add(phrase)
        if phrases:
            target = phrase_exact if rule.case_sensitive else phrase_lower
            target.add(rule.id, as_docs(phrases))
        if rule.tokens:
            try:
                tokens.add(rule.id, [list(pattern) for pattern in rule.tokens], greedy="LONGEST")
            except (ValueError, KeyError, TypeError) as error:
                reason = str(error).splitlines()[0][:160]
                raise RuleFileError(f"{rule.source}: rule '{rule.id}': field 'patterns.tokens': {reason}") from None
        flags = 0 if rule.case_sensitive else re.IGNORECASE
        regexes.extend((rule, re.compile(pattern, flags)) for pattern in rule.regex)
    return CompiledRules(ruleset, phrase_lower, phrase_exact, tokens, regexes)


def _snap(doc: Doc, rule: Rule, start: int, end: int) -> Candidate | None:
    """Align a character match to whole tokens, keeping the match's own character offsets."""
    span = doc.char_span(start, end, alignment_mode="expand")
    if span is None or start == end:
        return None
    return Candidate(rule, start, end, span.start, span.end)
