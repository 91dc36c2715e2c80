"""What a draft is about, computed once per parse: sentences, lexicon hits, facts, who the author is.

A word list cannot tell "Parkinson's" from a patient named Parkinson or "tonight" in "journal club
tonight" from "tonight a patient coded"; context can. The context predicates (checker/predicates.py) ask
their questions here. Every answer is indexed once per draft, so each question costs about the same
however long the draft: `Doc.text` rebuilds the string from every token on each access, so it is read
once into `text`; which tokens hold which word, where each lexicon occurs, which sentences hold which
fact, are looked up, never scanned per question.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping

from spacy.tokens import Doc

from checker.candidates import Candidate
from checker.facts import FactDeclaration, words_of
from checker.signals import DraftSignals, Signals
from checker.spans import SpanIndex
from checker.syntax import bounded_sentences, clauses

# "My mom", "my kids": the author's own family is not a patient's family to vent about. ("Our families"
# stays: a unit says it of its patients' families.) Occurrences of OWN_FAMILY_TARGETS that are one word of
# OWN_FAMILY_WORDS right after "my" are dropped before anything is indexed.
OWN_FAMILY_TARGETS, OWN_FAMILY_WORDS = "venting_patients", "kin_words"


@dataclass
class DraftContext:
    """Per-draft facts and indices every context predicate reads."""

    doc: Doc
    hits: dict[str, list[tuple[int, int]]]
    lexicons: Mapping[str, frozenset[str]]
    facts: Mapping[str, FactDeclaration] = field(default_factory=dict)
    author_names: frozenset[str] = frozenset()
    # The Checker's one sentiment analyzer (text -> VADER compound), so predicates can ask "is the rest of
    # this sentence clearly positive?" without building their own.
    polarity: Callable[[str], float] | None = None
    # The trained models (checker/signals.py), or None when they are off: then a fact's signal source is
    # silent and the `signal` predicate answers as its rule says (`when_off`). `signals` holds this
    # draft's scores, each computed when first asked for.
    learned: Signals | None = None
    signals: DraftSignals | None = field(default=None, init=False)
    text: str = ""
    sentence_of: list[int] = field(default_factory=list)
    sentence_bounds: list[tuple[int, int]] = field(default_factory=list)
    _lexicon_tokens: dict[str, frozenset[int]] = field(default_factory=dict)
    _heading_lines: dict[tuple[int, int], bool] = field(default_factory=dict)
    _word_positions: dict[str, list[int]] | None = None
    _hit_index: dict[str, SpanIndex] = field(default_factory=dict)
    _person_before: dict[tuple, list[str | None]] = field(default_factory=dict)
    _clause_range: dict[int, tuple[int, int]] = field(default_factory=dict)
    _token_starts: list[int] | None = None
    _fact_base: dict[str, list[bool]] = field(default_factory=dict)
    _fact_added: dict[str, set[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.text = self.doc.text
        self.sentence_bounds = bounded_sentences(self.doc) or [(0, 0)]
        if self.learned is not None:
            self.signals = DraftSignals(self.learned, self.doc, self.sentence_bounds)
        self.sentence_of = [0] * len(self.doc)
        for index, (start, end) in enumerate(self.sentence_bounds):
            for token_index in range(start, end):
                self.sentence_of[token_index] = index
        self._drop_own_family()  # first: every index below is built from the hits as they finally are
        self.author_names = self.author_names | self._self_introductions()

    # -- where things are --------------------------------------------------------------------------
    def sentence_index(self, candidate: Candidate) -> int:
        return self.sentence_of[candidate.token_start] if len(self.doc) else 0

    def tokens_of(self, candidate: Candidate):
        return self.doc[candidate.token_start:candidate.token_end]

    def lexicon_tokens(self, lexicon: str) -> frozenset[int]:
        """Indices of the tokens inside any occurrence of `lexicon`, collected once per draft."""
        if lexicon not in self._lexicon_tokens:
            self._lexicon_tokens[lexicon] = frozenset(
                i for start, end in self.hits.get(lexicon, ()) for i in range(start, end)
            )
        return self._lexicon_tokens[lexicon]

    def tokens_naming(self, lexicons: Iterable[str], words: frozenset[str] = frozenset()) -> frozenset[int]:
        """Token indices inside an occurrence of any of `lexicons`, or whose word is one of `words`."""
        found = frozenset().union(*(self.lexicon_tokens(name) for name in lexicons))
        if words:
            found |= {token.i for token in self.doc if token.lower_ in words}
        return found

    def word_in(self, words: frozenset[str] | set[str], start: int, end: int) -> bool:
        """Some token in doc[start:end] is one of `words` (lower case), by lookup, not by scanning."""
        if not words:
            return False
        if self._word_positions is None:
            positions: dict[str, list[int]] = {}
            for token in self.doc:
                positions.setdefault(token.lower_, []).append(token.i)
            self._word_positions = positions
        for word in words:
            found = self._word_positions.get(word)
            if found:
                at = bisect_left(found, start)
                if at < len(found) and found[at] < end:
                    return True
        return False

    def hit_overlaps(self, lexicon: str, start: int, end: int) -> bool:
        """Some occurrence of `lexicon` overlaps doc[start:end]."""
        return self._hits_of(lexicon).overlaps(start, end)

    def hit_starts_in(self, lexicon: str, start: int, end: int) -> bool:
        """Some occurrence of `lexicon` starts inside doc[start:end]."""
        return self._hits_of(lexicon).starts_within(start, end)

    def _hits_of(self, lexicon: str) -> SpanIndex:
        if lexicon not in self._hit_index:
            self._hit_index[lexicon] = SpanIndex(self.hits.get(lexicon, ()))
        return self._hit_index[lexicon]

    def line_tokens(self, candidate: Candidate) -> tuple[int, int]:
        """The token range of the line(s) the candidate is on."""
        if self._token_starts is None:
            self._token_starts = [token.idx for token in self.doc]
        line_start = self.text.rfind("\n", 0, candidate.start) + 1
        line_end = self.text.find("\n", candidate.end)
        line_end = len(self.text) if line_end == -1 else line_end
        return bisect_left(self._token_starts, line_start), bisect_left(self._token_starts, line_end)

    def clause_tokens(self, token_index: int) -> tuple[int, int]:
        """From the first to the last token of the clause a token sits in (checker/syntax.py's clauses)."""
        if token_index not in self._clause_range:
            start, end = self.sentence_bounds[self.sentence_of[token_index]]
            for clause in clauses(self.doc[start:end]):
                indices = [t.i for t in clause.tokens]
                for i in indices:
                    self._clause_range[i] = (min(indices), max(indices) + 1)
        return self._clause_range.get(token_index, (token_index, token_index + 1))

    def heading_lines(self, start: int, end: int) -> bool:
        """The line(s) holding text[start:end] read as a Title Case Heading (judged once per line)."""
        line_start = self.text.rfind("\n", 0, start) + 1
        line_end = self.text.find("\n", end)
        key = (line_start, line_end)
        if key not in self._heading_lines:
            line = self.text[line_start:line_end if line_end != -1 else len(self.text)]
            words = [w for w in line.split() if w[:1].isalpha()]
            self._heading_lines[key] = len(words) >= 4 and sum(w[:1].isupper() for w in words) / len(words) >= 0.7
        return self._heading_lines[key]

    def polarity_around(self, candidate: Candidate) -> float:
        """VADER compound of the candidate's sentence without the candidate itself (0 with no analyzer):
        how the rest of the sentence reads, so a match cannot vouch for itself."""
        if self.polarity is None:
            return 0.0
        start, end = self.sentence_bounds[self.sentence_index(candidate)]
        text = self.text
        first, last = self.doc[start].idx, self.doc[end - 1].idx + len(self.doc[end - 1].text)
        return self.polarity(text[first:candidate.start] + text[candidate.end:last])

    def person_before(self, token_index: int, first: frozenset[str], others: frozenset[str],
                      other_lexicons: tuple[str, ...]) -> str | None:
        """The nearest person mentioned before a token in its sentence: "first" (one of `first`), "other"
        (one of `others`, or in one of `other_lexicons`), or None. One pass answers it for every token."""
        key = (first, others, other_lexicons)
        if key not in self._person_before:
            marked = self.tokens_naming(other_lexicons)
            nearest: list[str | None] = [None] * len(self.doc)
            for start, end in self.sentence_bounds:
                seen = None
                for index in range(start, end):
                    nearest[index] = seen
                    word = self.doc[index].lower_
                    if index in marked or word in others:
                        seen = "other"
                    elif word in first:
                        seen = "first"
            self._person_before[key] = nearest
        return self._person_before[key][token_index]

    # -- facts -------------------------------------------------------------------------------------
    def fact(self, name: str, sentence: int, base: bool = False) -> bool:
        """Whether a sentence holds a fact; `base` asks only the fact's own sources (checker/facts.py)."""
        return self._base(name)[sentence] or (not base and sentence in self._fact_added.get(name, ()))

    def fact_anywhere(self, name: str, base: bool = False) -> bool:
        return any(self._base(name)) or (not base and bool(self._fact_added.get(name)))

    def set_fact(self, name: str, sentence: int) -> None:
        self._fact_added.setdefault(name, set()).add(sentence)

    def _base(self, name: str) -> list[bool]:
        """A fact's value from its sources: its words, its learned signal, and the facts it includes as
        they now are. Read only once the rules that set those are done (the loader's order sees to it),
        so it is cached."""
        if name not in self._fact_base:
            declaration = self.facts[name]
            lexicons, plain = words_of(declaration)
            signal = declaration.signal if self.signals is not None else None
            values = []
            for index, (start, end) in enumerate(self.sentence_bounds):
                values.append(any(self.hit_starts_in(lexicon, start, end) for lexicon in lexicons)
                              or self.word_in(plain, start, end)
                              or (signal is not None and start < end
                                  and self.signals.sentence(signal[0], index) >= signal[1])
                              or any(self.fact(included, index) for included in declaration.includes))
            self._fact_base[name] = values
        return self._fact_base[name]

    # -- the author -------------------------------------------------------------------------------
    def _drop_own_family(self) -> None:
        kin = self.lexicons.get(OWN_FAMILY_WORDS, frozenset())
        if OWN_FAMILY_TARGETS in self.hits:
            self.hits[OWN_FAMILY_TARGETS] = [
                (s, e) for s, e in self.hits[OWN_FAMILY_TARGETS]
                if not (e - s == 1 and s and self.doc[s].lower_ in kin and self.doc[s - 1].lower_ == "my")
            ]

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
