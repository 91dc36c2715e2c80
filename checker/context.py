"""What the draft is about, computed once per parse, and the named conditions rules use to gate matches.

A word list cannot tell "Parkinson's" from a patient named Parkinson or "tonight" in "journal club
tonight" from "tonight a patient coded"; context can. Rules name the conditions they need
(`context.needs`) and the ones that clear them (`context.clears`); each is implemented once here,
reading the shared parse and the lexicons in `rules/`. No condition knows about a specific rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from spacy.tokens import Doc

from checker.candidates import Candidate
from checker.rules import RuleSet

FIRST_PERSON = frozenset({"i", "i'm", "im", "me", "my", "myself", "mine"})


@dataclass
class DraftContext:
    """Per-draft facts every condition reads: sentences, lexicon hits, who the author is.

    Everything here is computed once per draft so that each condition costs the same however long the
    draft is: `Doc.text` rebuilds the string from every token on each access, so it is read once into
    `text`, and which sentences hold a lexicon word is indexed once instead of scanned per question.
    """

    doc: Doc
    hits: dict[str, list[tuple[int, int]]]
    ruleset: RuleSet
    author_names: frozenset[str] = frozenset()
    text: str = ""
    sentence_of: list[int] = field(default_factory=list)
    sentence_bounds: list[tuple[int, int]] = field(default_factory=list)
    sentences_with: dict[str, frozenset[int]] = field(default_factory=dict)
    encounter: list[bool] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.text = self.doc.text
        self.sentence_bounds = [(sent.start, sent.end) for sent in self.doc.sents]
        self.sentence_of = [0] * len(self.doc)
        for index, (start, end) in enumerate(self.sentence_bounds):
            for token_index in range(start, end):
                self.sentence_of[token_index] = index
        self.sentences_with = {
            lexicon: frozenset(self.sentence_of[start] for start, _ in spans)
            for lexicon, spans in self.hits.items()
        }
        self.encounter = [
            self.has_hit(index, "patient_refs") or self.has_hit(index, "encounter_events")
            for index in range(len(self.sentence_bounds))
        ]
        self.author_names = self.author_names | self._self_introductions()

    def mark_patient(self, sentences: set[int]) -> None:
        """Sentences where a rule that `marks_patient` matched ("a 97-year-old", "Mrs. K") are about a patient."""
        for index in sentences:
            self.encounter[index] = True

    # -- facts -------------------------------------------------------------------------------------
    @property
    def patient_draft(self) -> bool:
        """Some sentence narrates an encounter with a patient."""
        return any(self.encounter)

    def sentence_index(self, candidate: Candidate) -> int:
        return self.sentence_of[candidate.token_start] if len(self.doc) else 0

    def has_hit(self, sentence: int, lexicon: str) -> bool:
        """A word of `lexicon` starts in this sentence."""
        return sentence in self.sentences_with.get(lexicon, ())

    def tokens_of(self, candidate: Candidate):
        return self.doc[candidate.token_start:candidate.token_end]

    def _self_introductions(self) -> frozenset[str]:
        """Names the author gives themself ("I'm Alex, a PGY-2", "my name is Sam")."""
        names: set[str] = set()
        doc = self.doc
        for token in doc:
            if token.lower_ in ("i'm", "im", "am") or (token.lower_ == "'m" and token.i and doc[token.i - 1].lower_ == "i"):
                follower = token.i + 1
            elif token.lower_ == "name" and token.i and doc[token.i - 1].lower_ == "my" and token.i + 2 < len(doc) and doc[token.i + 1].lower_ == "is":
                follower = token.i + 2
            else:
                continue
            if follower < len(doc) and doc[follower].pos_ == "PROPN" and doc[follower].text[:1].isupper():
                names.add(doc[follower].lower_)
        return frozenset(names)


Condition = Callable[[DraftContext, Candidate], bool]


def _needs_patient_draft(ctx: DraftContext, candidate: Candidate) -> bool:
    return ctx.patient_draft


def _needs_encounter_sentence(ctx: DraftContext, candidate: Candidate) -> bool:
    return ctx.encounter[ctx.sentence_index(candidate)]


def _needs_encounter_nearby(ctx: DraftContext, candidate: Candidate) -> bool:
    index = ctx.sentence_index(candidate)
    return any(ctx.encounter[max(0, index - 1):index + 2])


def _needs_person_target(ctx: DraftContext, candidate: Candidate) -> bool:
    index = ctx.sentence_index(candidate)
    return ctx.has_hit(index, "targets") or ctx.has_hit(index, "patient_refs")


def _clears_gratitude(ctx: DraftContext, candidate: Candidate) -> bool:
    index = ctx.sentence_index(candidate)
    return ctx.has_hit(index, "gratitude") and not ctx.encounter[index]


def _clears_eponym(ctx: DraftContext, candidate: Candidate) -> bool:
    """Parkinson's, Graves', Bell's palsy, Hodgkin lymphoma: a surname that names a disease or sign.

    Every word of the candidate must be an eponym (so "Linda Wilson" stays a name while "Wilson" in a
    teaching post does not), or the candidate must be followed by a disease word ("Bell's palsy").
    """
    eponyms = ctx.hits.get("eponyms", ())
    words = [t.i for t in ctx.tokens_of(candidate) if t.is_alpha]
    if words and all(any(s <= i < e for s, e in eponyms) for i in words):
        return True
    doc = ctx.doc
    after = candidate.token_end
    while after < len(doc) and doc[after].lower_ in ("'s", "'", "’s", "’", "-"):
        after += 1
    return after < len(doc) and doc[after].lemma_.lower() in ctx.ruleset.lexicon("eponym_heads")


def _clears_clinical_term(ctx: DraftContext, candidate: Candidate) -> bool:
    """Abbreviations (GI, CHF, NPO), drugs and doses are not people or places."""
    terms = ctx.hits.get("clinical_terms", ())
    if any(s <= candidate.token_start and candidate.token_end <= e for s, e in terms):
        return True
    words = [t for t in ctx.tokens_of(candidate) if not t.is_punct]
    if not words:
        return True
    if all(t.like_num or any(ch.isdigit() for ch in t.text) for t in words):
        return True
    suffixes = tuple(ctx.ruleset.lexicon("drug_suffixes"))
    return bool(suffixes) and all(t.lower_.endswith(suffixes) for t in words)


def _clears_author(ctx: DraftContext, candidate: Candidate) -> bool:
    return bool(ctx.author_names) and any(t.lower_ in ctx.author_names for t in ctx.tokens_of(candidate))


def _clears_self(ctx: DraftContext, candidate: Candidate) -> bool:
    """The sentence is about the author ("I'm 34", "Hodgkin's at 24 is why I chose oncology")."""
    start, end = ctx.sentence_bounds[ctx.sentence_index(candidate)]
    words = {t.lower_ for t in ctx.doc[start:end]}
    return bool(words & FIRST_PERSON) and not ctx.has_hit(ctx.sentence_index(candidate), "patient_refs") \
        and not ctx.has_hit(ctx.sentence_index(candidate), "third_person")


def _clears_hypothetical(ctx: DraftContext, candidate: Candidate) -> bool:
    return bool(ctx.hits.get("hypothetical_cues"))


def _clears_generic_plural(ctx: DraftContext, candidate: Candidate) -> bool:
    return all(t.tag_ in ("NNS", "NNPS") for t in ctx.tokens_of(candidate) if t.pos_ in ("NOUN", "PROPN"))


NEEDS: dict[str, Condition] = {
    "patient-draft": _needs_patient_draft,
    "encounter-sentence": _needs_encounter_sentence,
    "encounter-nearby": _needs_encounter_nearby,
    "person-target": _needs_person_target,
}
CLEARS: dict[str, Condition] = {
    "gratitude": _clears_gratitude,
    "eponym": _clears_eponym,
    "clinical-term": _clears_clinical_term,
    "author": _clears_author,
    "self": _clears_self,
    "hypothetical": _clears_hypothetical,
    "generic-plural": _clears_generic_plural,
}


def counts(ctx: DraftContext, candidate: Candidate) -> bool:
    """Whether a candidate survives its rule's context: needs all met, nothing clearing it, not allowed."""
    rule = candidate.rule
    text = ctx.text[candidate.start:candidate.end].lower()
    if text in rule.allow or text in ctx.ruleset.allow_words:
        return False
    context = rule.context
    if not all(NEEDS[name](ctx, candidate) for name in context.needs):
        return False
    if any(CLEARS[name](ctx, candidate) for name in context.clears):
        return False
    if context.not_after and _follows(ctx, candidate, context.not_after):
        return False
    return not context.near or _is_near(ctx, candidate, context.near, context.window)


def _follows(ctx: DraftContext, candidate: Candidate, words: tuple[str, ...]) -> bool:
    """The match comes right after one of `words` (or '@'), e.g. a name after "Dr." is a colleague."""
    expanded = _expand(ctx, words)
    before = candidate.start
    while before and ctx.text[before - 1].isspace():
        before -= 1
    if before and ctx.text[before - 1] == "@":
        return "@" in expanded
    if candidate.token_start == 0:
        return False
    previous = ctx.doc[candidate.token_start - 1]
    if previous.is_punct and previous.text == "." and candidate.token_start > 1:
        previous = ctx.doc[candidate.token_start - 2]
    return previous.lower_.rstrip(".") in expanded or previous.lower_ in expanded


def _is_near(ctx: DraftContext, candidate: Candidate, words: tuple[str, ...], window: int) -> bool:
    """One of `words` occurs in the candidate's sentence, or within `window` tokens when that is set."""
    if window:
        start, end = max(0, candidate.token_start - window), min(len(ctx.doc), candidate.token_end + window)
    else:
        start, end = ctx.sentence_bounds[ctx.sentence_index(candidate)]
    plain = {w for w in words if not w.startswith("@")}
    if any(ctx.doc[i].lower_ in plain for i in range(start, end)):
        return True
    return any(s < end and start < e for w in words if w.startswith("@") for s, e in ctx.hits.get(w[1:], ()))


def _expand(ctx: DraftContext, words: tuple[str, ...]) -> frozenset[str]:
    """Plain words as given, '@name' replaced by that lexicon's words."""
    out: set[str] = set()
    for word in words:
        out.update(ctx.ruleset.lexicon(word[1:]) if word.startswith("@") else (word,))
    return frozenset(out)
