"""The sentiment detector: negative clauses that are about someone, scored by VADER on the shared parse.

A general-purpose lexicon reads a clinician's week as misery: VADER scores "tired", "pain", "cancer" and
"died" strongly negative, so raw sentiment would flag grief, fatigue and every teaching post. Three
things keep it honest:

- Clauses, not posts. Each sentence is cut into clauses on the parse (a conjoined, adverbial, relative
  or complement clause is its own), so one contemptuous clause in a kind post is scored on its own and
  the finding marks the clause to rewrite.
- A neutralised lexicon. Words in the `sentiment_neutral` lexicon (clinical and self-directed words)
  lose their valence, words the user or an organisation allows do too, and words in
  `sentiment_negative` (contempt VADER does not know: "clowns", "entitled") gain one. The analyzer is
  built once per Checker from a copy of VADER's bundled lexicon; nothing is downloaded.
- A target. A rule lists the lexicons of whom venting can be about (`targets`); a negative clause that
  names none of them (or only describes the author) is never a finding. Advice ("don't ignore a
  patient's pain") and conditions ("if your PD ignores violations, report them") carry no contempt
  for the person they name and are skipped. And what a target feels or goes through is theirs, not
  contempt for them: a word from `sentiment_experiencer_words` said of a target ("the family was
  angry", "patients hate being woken at 4am") is not scored.
"""

from __future__ import annotations

from dataclasses import dataclass

from spacy.tokens import Doc, Span, Token
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from checker.candidates import Candidate
from checker.context import (
    CONDITIONAL_MARKS,
    MAX_SENTENCE_TOKENS,
    MAX_TREE_STEPS,
    DraftContext,
    described_by,
    subtree_within,
)
from checker.rules import Rule, RuleSet

# Dependencies that start a clause of their own when they head a verb.
_CLAUSE_DEPS = frozenset({"conj", "ccomp", "advcl", "parataxis", "relcl"})
_SUBJECT_DEPS = frozenset({"nsubj", "nsubjpass", "expl", "csubj"})
# VADER's scale runs -4..4; "useless" is -1.8 and "idiot" -2.3. Added contempt words sit between them.
ADDED_VALENCE = -2.0


@dataclass(frozen=True)
class Clause:
    """One clause of a sentence: its own tokens (in order) and the tokens that say whom it is about."""

    tokens: tuple[Token, ...]
    about: frozenset[int]  # token indices: the clause's own, plus the noun a relative clause hangs on

    @property
    def text(self) -> str:
        return "".join(token.text_with_ws for token in self.tokens)


def build_analyzer(ruleset: RuleSet) -> SentimentIntensityAnalyzer:
    """VADER with clinical and self-directed words neutralised and contempt words added (see module doc)."""
    analyzer = SentimentIntensityAnalyzer()
    lexicon = dict(analyzer.lexicon)
    for word in ruleset.lexicon("sentiment_neutral") | ruleset.allow_words:
        lexicon.pop(word, None)
    for word in ruleset.lexicon("sentiment_negative") - ruleset.allow_words:
        lexicon[word] = ADDED_VALENCE
    analyzer.lexicon = lexicon
    return analyzer


def starts_clause(token: Token) -> bool:
    """A verb heading a clause of its own. A conjoined verb without its own subject ("was rude and
    wasted our time") stays in its head's clause: it says more about the same subject."""
    if token.dep_ == "ROOT":
        return True
    if token.dep_ not in _CLAUSE_DEPS or token.pos_ not in ("VERB", "AUX"):
        return False
    return token.dep_ != "conj" or any(child.dep_ in _SUBJECT_DEPS for child in token.children)


def clauses(sentence: Span) -> list[Clause]:
    """Cut a sentence into clauses: every token joins the nearest clause head above it in the parse."""
    heads = {t.i for t in sentence if starts_clause(t)}
    groups: dict[int, list[Token]] = {}
    for token in sentence:
        head = token
        for _ in range(MAX_TREE_STEPS):
            if head.i in heads or head.head.i == head.i:
                break
            head = head.head
        groups.setdefault(head.i, []).append(token)
    out = []
    for head_index, tokens in sorted(groups.items(), key=lambda item: item[1][0].i):
        head = sentence.doc[head_index]
        about = {t.i for t in tokens}
        if head.dep_ == "relcl":  # "patients who ..." : the clause is about the noun it modifies
            about.add(head.head.i)
        out.append(Clause(tuple(tokens), frozenset(about)))
    return out


def clause_head(clause: Clause) -> Token | None:
    return next((t for t in clause.tokens if starts_clause(t)), None)


def is_imperative(head: Token) -> bool:
    """Advice and instructions ("Don't ignore ...", "Never dismiss ...") carry no target's contempt."""
    if head.tag_ != "VB" or head.dep_ not in ("ROOT", "parataxis"):
        return False
    children = list(head.children)
    if any(child.dep_ in _SUBJECT_DEPS for child in children):
        return False
    return not any(child.dep_ == "aux" and child.lower_ not in ("do", "did") for child in children)


def is_conditional(head: Token) -> bool:
    """"If the consultant ignores the page, ..." states a case, not a grievance."""
    return any(child.dep_ == "mark" and child.lower_ in CONDITIONAL_MARKS for child in head.children)


class SentimentDetector:
    """Proposes a candidate for every clause that is negative enough for a rule and names its target."""

    def __init__(self, ruleset: RuleSet, analyzer: SentimentIntensityAnalyzer | None = None):
        self.rules: list[Rule] = [rule for rule in ruleset.rules if rule.sentiment]
        self.analyzer = analyzer or build_analyzer(ruleset)
        self.experiencer_words = ruleset.lexicon("sentiment_experiencer_words")
        self.target_lexicons = sorted({lexicon for rule in self.rules for lexicon in rule.sentiment.targets})

    def __call__(self, doc: Doc, ctx: DraftContext) -> list[Candidate]:
        if not self.rules or not len(doc):
            return []
        # A clause is only judged when it names a target, so a sentence without one is not cut up.
        targets = frozenset().union(*(ctx.lexicon_tokens(lexicon) for lexicon in self.target_lexicons))
        found: list[Candidate] = []
        for start, end in ctx.sentence_bounds:
            if targets.isdisjoint(range(start, end)):
                continue
            sentence = doc[start:end]
            for clause in clauses(sentence):
                found.extend(self._judge(clause, ctx))
        return found

    def _judge(self, clause: Clause, ctx: DraftContext) -> list[Candidate]:
        words = [t for t in clause.tokens if not (t.is_punct or t.is_space)]
        head = clause_head(clause)
        if not words or (head is not None and (is_imperative(head) or is_conditional(head))):
            return []
        named_by = {rule.id: set().union(*(_named(ctx, clause, lexicon) for lexicon in rule.sentiment.targets))
                    for rule in self.rules}
        if not any(named_by.values()):  # no target, no finding: skip the scoring
            return []
        felt = self._felt_by_target(clause, ctx)
        text = "".join(t.text_with_ws for t in clause.tokens if t.i not in felt)
        compound = self.analyzer.polarity_scores(text)["compound"]
        first, last = words[0], words[-1]
        found = []
        subject = _subject_tokens(head)
        # When the clause's subject is a target, the clause is about the subject ("the family was rude
        # to our nurses" is about the family), so only rules naming the subject apply.
        subject_named = any(named & subject for named in named_by.values())
        for rule in self.rules:
            named = named_by[rule.id]
            if compound > rule.sentiment.max_compound or not named:
                continue
            if subject_named and not named & subject:
                continue
            found.append(Candidate(rule, first.idx, last.idx + len(last.text), first.i, last.i + 1))
        return found

    def _felt_by_target(self, clause: Clause, ctx: DraftContext) -> set[int]:
        """Tokens naming what a target feels or goes through ("the family was angry", "patients hate
        being woken"): their valence belongs to the target, not to the author's view of them."""
        targets = ctx.target_tokens()
        felt = set()
        for token in clause.tokens:
            if token.lemma_.lower() not in self.experiencer_words and token.lower_ not in self.experiencer_words:
                continue
            if token.pos_ in ("VERB", "AUX"):
                about = {t.i for t in _subject_of(token)}
            else:
                about = described_by(token)
            if about & targets:
                felt.add(token.i)
        return felt


def _subject_of(verb: Token) -> list[Token]:
    """The subject phrase of a verb, borrowed from the verb it is conjoined with or completes."""
    for _ in range(5):
        near = (verb.i - MAX_SENTENCE_TOKENS, verb.i + MAX_SENTENCE_TOKENS)
        subjects = [verb.doc[i] for child in verb.children if child.dep_ in _SUBJECT_DEPS for i in subtree_within(child, *near)]
        if subjects or verb.dep_ not in ("conj", "xcomp") or verb.head.i == verb.i:
            return subjects
        verb = verb.head
    return []


def _subject_tokens(head: Token | None) -> set[int]:
    """The clause's subject phrase; a relative clause's "who" stands for the noun it hangs on."""
    if head is None:
        return set()
    out: set[int] = set()
    near = (head.i - MAX_SENTENCE_TOKENS, head.i + MAX_SENTENCE_TOKENS)
    for child in head.children:
        if child.dep_ in _SUBJECT_DEPS:
            out.update(subtree_within(child, *near))
            if child.lower_ in ("who", "that", "which") and head.dep_ == "relcl":
                out.add(head.head.i)
    return out


def _named(ctx: DraftContext, clause: Clause, lexicon: str) -> set[int]:
    """Token indices where the lexicon occurs on tokens the clause is about."""
    return set(ctx.lexicon_tokens(lexicon) & clause.about)
