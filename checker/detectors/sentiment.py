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
  names none of them (or only describes the author) is never a finding. What a target feels or goes
  through is theirs, not contempt for them: a word from `sentiment_experiencer_words` said of a target
  ("the family was angry", "patients hate being woken at 4am") is not scored.

Which clauses carry no contempt for whom they name, advice ("don't ignore a patient's pain") and
conditions ("if your PD ignores violations, report them"), is not decided here: the sentiment rules
declare it (`clears: [imperative, conditional-clause]`), like any other rule's context.
"""

from __future__ import annotations

from spacy.tokens import Doc
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from checker.candidates import Candidate
from checker.context import DraftContext
from checker.rules import Rule, RuleSet
from checker.syntax import Clause, borrowed_subject, clauses, described_by, subject_tokens

# VADER's scale runs -4..4; "useless" is -1.8 and "idiot" -2.3. Added contempt words sit between them.
ADDED_VALENCE = -2.0


def build_sentiment_analyzer(ruleset: RuleSet) -> SentimentIntensityAnalyzer:
    """VADER with clinical and self-directed words neutralised and contempt words added (see module doc)."""
    analyzer = SentimentIntensityAnalyzer()
    lexicon = dict(analyzer.lexicon)
    for word in ruleset.lexicon("sentiment_neutral") | ruleset.allow_words:
        lexicon.pop(word, None)
    for word in ruleset.lexicon("sentiment_negative") - ruleset.allow_words:
        lexicon[word] = ADDED_VALENCE
    analyzer.lexicon = lexicon
    return analyzer


class SentimentDetector:
    """Proposes a candidate for every clause that is negative enough for a rule and names its target."""

    def __init__(self, ruleset: RuleSet, analyzer: SentimentIntensityAnalyzer | None = None):
        self.rules: list[Rule] = [rule for rule in ruleset.evaluated if rule.sentiment]
        self.analyzer = analyzer or build_sentiment_analyzer(ruleset)
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
        head = clause.head
        if not words:
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
        subject = subject_tokens(head)
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
        targets = ctx.tokens_naming(self.target_lexicons)
        felt = set()
        for token in clause.tokens:
            if token.lemma_.lower() not in self.experiencer_words and token.lower_ not in self.experiencer_words:
                continue
            if token.pos_ in ("VERB", "AUX"):
                about = {t.i for t in borrowed_subject(token)}
            else:
                about = described_by(token)
            if about & targets:
                felt.add(token.i)
        return felt


def _named(ctx: DraftContext, clause: Clause, lexicon: str) -> set[int]:
    """Token indices where the lexicon occurs on tokens the clause is about."""
    return set(ctx.lexicon_tokens(lexicon) & clause.about)
