"""What the draft is about, computed once per parse, and the named conditions rules use to gate matches.

A word list cannot tell "Parkinson's" from a patient named Parkinson or "tonight" in "journal club
tonight" from "tonight a patient coded"; context can. Rules name the conditions they need
(`context.needs`) and the ones that clear them (`context.clears`); each is implemented once here,
reading the shared parse and the lexicons in `rules/`. No condition knows about a specific rule.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from typing import Callable

from spacy.tokens import Doc

from checker.candidates import Candidate
from checker.rules import RuleSet, lexicon_ref

# Subjects that make a clause about the author (or the author's own team): "I felt like an idiot".
# "Me" is no subject in grammar, only in the meme format ("Me after call because ..."), where the parser
# wrongly makes it the subject of whatever follows; it counts as the author acting, not as self-description.
SELF_SUBJECTS = frozenset({"i", "myself", "we", "ourselves", "i'm", "im"})
AUTHOR_SUBJECTS = SELF_SUBJECTS | {"me", "us"}
# Whom venting is about: people and groups, institutions, and (from lexicons.yaml) a particular patient.
TARGET_LEXICONS = ("venting_patients", "venting_colleagues", "venting_institutions", "patient_refs")
# Pronouns that point contempt at a person even when no role is named ("you're useless", "he is lazy").
ADDRESSEES = frozenset({"you", "he", "she", "him", "her", "u", "ya"})
# A sentence at least this positive (VADER compound, clinical words neutralised) is not a complaint.
POSITIVE_SENTENCE = 0.3
# Subordinators that make a clause a condition rather than a report ("if a consultant is rude ...").
CONDITIONAL_MARKS = frozenset({"if", "unless", "whether"})
# A "sentence" longer than this (a paste with no full stops) is read in pieces of this many tokens, so
# every question a condition asks about "its sentence" costs a bounded amount however long the draft.
MAX_SENTENCE_TOKENS = 150
# Parse trees are shallow; walks up a tree stop after this many steps, in case a degenerate one is not.
MAX_TREE_STEPS = 40


def bounded_sentences(doc: Doc) -> list[tuple[int, int]]:
    """The parser's sentences as (start, end) token indices, any longer than MAX_SENTENCE_TOKENS cut
    into pieces of that many."""
    bounds = []
    for sentence in doc.sents:
        for start in range(sentence.start, sentence.end, MAX_SENTENCE_TOKENS):
            bounds.append((start, min(start + MAX_SENTENCE_TOKENS, sentence.end)))
    return bounds


def subtree_within(token, start: int, end: int) -> range:
    """A token's subtree as token indices, kept inside doc[start:end]. The parser is projective, so a
    subtree is the contiguous stretch from its left edge to its right edge; no walk over it is needed."""
    return range(max(token.left_edge.i, start), min(token.right_edge.i + 1, end))


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
    venting: list[bool] = field(default_factory=list)
    # The Checker's one sentiment analyzer (text -> VADER compound), so conditions can ask "is this
    # sentence clearly positive?" without building their own.
    polarity: Callable[[str], float] | None = None
    _targets: frozenset[int] | None = None
    _lexicon_tokens: dict[str, frozenset[int]] = field(default_factory=dict)
    _heading_lines: dict[tuple[int, int], bool] = field(default_factory=dict)
    _word_positions: dict[str, list[int]] | None = None
    _hit_index: dict[str, tuple[list[int], list[int]]] = field(default_factory=dict)
    _person_before: list[str | None] | None = None

    def __post_init__(self) -> None:
        self.text = self.doc.text
        self.sentence_bounds = bounded_sentences(self.doc)
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
        self.venting = [False] * len(self.sentence_bounds)
        self.author_names = self.author_names | self._self_introductions()
        self._drop_own_family()

    def mark_patient(self, sentences: set[int]) -> None:
        """Sentences where a rule that `marks_patient` matched ("a 97-year-old", "Mrs. K") are about a patient."""
        for index in sentences:
            self.encounter[index] = True

    def mark_venting(self, sentences: set[int]) -> None:
        """Sentences that already carry a venting finding: a name there tags the person it is aimed at."""
        for index in sentences:
            self.venting[index] = True

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

    def polarity_around(self, candidate: Candidate) -> float:
        """VADER compound of the candidate's sentence without the candidate itself (0 with no analyzer):
        how the rest of the sentence reads, so a match cannot vouch for itself."""
        if self.polarity is None:
            return 0.0
        start, end = self.sentence_bounds[self.sentence_index(candidate)]
        text = self.text
        first, last = self.doc[start].idx, self.doc[end - 1].idx + len(self.doc[end - 1].text)
        return self.polarity(text[first:candidate.start] + text[candidate.end:last])

    def _drop_own_family(self) -> None:
        """"My mom", "my kids": the author's own family is not a patient's family to vent about. ("Our
        families" stays: a unit says it of its patients' families.)"""
        kin = self.ruleset.lexicon("kin_words")
        if "venting_patients" in self.hits:
            self.hits["venting_patients"] = [
                (s, e) for s, e in self.hits["venting_patients"]
                if not (e - s == 1 and s and self.doc[s].lower_ in kin and self.doc[s - 1].lower_ == "my")
            ]

    def target_tokens(self) -> frozenset[int]:
        """Indices of tokens that name someone venting could be aimed at (see TARGET_LEXICONS)."""
        if self._targets is None:
            self._targets = frozenset().union(*(self.lexicon_tokens(lexicon) for lexicon in TARGET_LEXICONS))
        return self._targets

    def lexicon_tokens(self, lexicon: str) -> frozenset[int]:
        """Indices of the tokens inside any occurrence of `lexicon`, collected once per draft."""
        if lexicon not in self._lexicon_tokens:
            self._lexicon_tokens[lexicon] = frozenset(
                i for start, end in self.hits.get(lexicon, ()) for i in range(start, end)
            )
        return self._lexicon_tokens[lexicon]

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

    def word_in(self, words: frozenset[str] | set[str], start: int, end: int) -> bool:
        """Some token in doc[start:end] is one of `words` (lower case), by lookup, not by scanning."""
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
        """Some occurrence of `lexicon` overlaps doc[start:end]: one bisection in hits sorted by start."""
        if lexicon not in self._hit_index:
            spans = sorted(self.hits.get(lexicon, ()))
            reach, furthest = [], -1
            for _, hit_end in spans:
                furthest = max(furthest, hit_end)
                reach.append(furthest)
            self._hit_index[lexicon] = ([hit_start for hit_start, _ in spans], reach)
        starts, reach = self._hit_index[lexicon]
        before = bisect_left(starts, end)  # hits that start before `end`
        return before > 0 and reach[before - 1] > start

    def person_before(self, token_index: int) -> str | None:
        """The nearest person mentioned before a token in its sentence: "first" (I, me, my), "other" (a
        patient or a third person), or None. One pass over the draft answers it for every token."""
        if self._person_before is None:
            others = self.ruleset.lexicon("third_person")
            first_person = self.ruleset.lexicon("first_person")
            patients = self.lexicon_tokens("patient_refs")
            nearest: list[str | None] = [None] * len(self.doc)
            for start, end in self.sentence_bounds:
                seen = None
                for index in range(start, end):
                    nearest[index] = seen
                    word = self.doc[index].lower_
                    if index in patients or word in others:
                        seen = "other"
                    elif word in first_person:
                        seen = "first"
            self._person_before = nearest
        return self._person_before[token_index]

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
    """The sentence names someone venting could be aimed at: a person, a group or an institution."""
    index = ctx.sentence_index(candidate)
    return any(ctx.has_hit(index, lexicon) for lexicon in TARGET_LEXICONS)


def _needs_aimed_at_target(ctx: DraftContext, candidate: Candidate) -> bool:
    """The match is said of someone venting can be aimed at: it modifies a target ("a useless
    attending"), is predicated of one ("admin is a joke", "the nurses were lazy"), or stands in a
    verbless fragment ("Toxic, all of it.") right after a sentence that names one."""
    targets = ctx.target_tokens()
    about = described_by(ctx.doc[candidate.token_start:candidate.token_end].root)
    if about & targets or any(ctx.doc[i].lower_ in ADDRESSEES for i in about):
        return True
    index = ctx.sentence_index(candidate)
    start, end = ctx.sentence_bounds[index]
    if any(t.pos_ in ("VERB", "AUX") for t in ctx.doc[start:end]):
        return False
    first = ctx.sentence_bounds[max(0, index - 1)][0]
    return any(first <= i < end for i in targets)


def described_by(token) -> set[int]:
    """Token indices of whom or what a word describes: the noun it modifies, or the subject it is said of."""
    about = {token.i}
    for _ in range(MAX_TREE_STEPS):
        if token.head.i == token.i:
            break
        if token.dep_ in ("amod", "compound", "nmod", "conj", "appos"):
            token = token.head
        elif token.dep_ == "pobj" and token.head.lower_ == "of" and token.head.head.i != token.head.i:
            token = token.head.head  # "a bunch of lazy ...": the lazy ones are the bunch
        else:
            break
        about.add(token.i)
    if token.dep_ in ("attr", "acomp", "oprd"):
        verb = token.head
        near = (verb.i - MAX_SENTENCE_TOKENS, verb.i + MAX_SENTENCE_TOKENS)
        for child in verb.children:
            if child.dep_ in ("nsubj", "nsubjpass"):
                about.update(subtree_within(child, *near))  # "some of these patients", "our night float attending"
                if child.lower_ in ("who", "that", "which") and verb.dep_ == "relcl":
                    about.add(verb.head.i)
            elif child.dep_ == "csubj":
                about.update(subtree_within(child, *near))
    return about


def _needs_author_subject(ctx: DraftContext, candidate: Candidate) -> bool:
    """The author is the one acting ("I was ready to punch a wall"), or no one is named ("*flips table*")."""
    subject = grammatical_subject(ctx.doc[candidate.token_start])
    return subject is None or subject in AUTHOR_SUBJECTS


def _needs_venting_sentence(ctx: DraftContext, candidate: Candidate) -> bool:
    return ctx.venting[ctx.sentence_index(candidate)]


def _clears_gratitude(ctx: DraftContext, candidate: Candidate) -> bool:
    index = ctx.sentence_index(candidate)
    return ctx.has_hit(index, "gratitude") and not ctx.encounter[index]


def _clears_eponym(ctx: DraftContext, candidate: Candidate) -> bool:
    """Parkinson's, Graves', Bell's palsy, Hodgkin lymphoma: a surname that names a disease or sign.

    Every word of the candidate must be an eponym (so "Linda Wilson" stays a name while "Wilson" in a
    teaching post does not), or the candidate must be followed by a disease word ("Bell's palsy").
    """
    eponyms = ctx.lexicon_tokens("eponyms")
    words = [t.i for t in ctx.tokens_of(candidate) if t.is_alpha]
    if words and all(i in eponyms for i in words):
        return True
    doc = ctx.doc
    after = candidate.token_end
    while after < min(len(doc), candidate.token_end + 3) and doc[after].lower_ in ("'s", "'", "’s", "’", "-"):
        after += 1
    # A noun only: "Bell's palsy" is a disease, "Maria Lopez signed the consent" is still a person.
    return after < len(doc) and doc[after].pos_ in ("NOUN", "PROPN") \
        and doc[after].lemma_.lower() in ctx.ruleset.lexicon("eponym_heads")


def _clears_clinical_term(ctx: DraftContext, candidate: Candidate) -> bool:
    """Abbreviations (GI, CHF, NPO), drugs and doses are not people or places."""
    terms = ctx.lexicon_tokens("clinical_terms")
    words = [t for t in ctx.tokens_of(candidate) if not t.is_punct]
    if not words:
        return True
    if all(t.i in terms for t in words):
        return True
    # "NPO AFTER MIDNIGHT": an abbreviation in capitals never starts a name ("Ed Norris" still does).
    if words[0].is_upper and words[0].i in terms:
        return True
    if all(t.like_num or any(ch.isdigit() for ch in t.text) for t in words):
        return True
    suffixes = tuple(ctx.ruleset.lexicon("drug_suffixes"))
    return bool(suffixes) and all(t.lower_.endswith(suffixes) for t in words)


def _clears_author(ctx: DraftContext, candidate: Candidate) -> bool:
    return bool(ctx.author_names) and any(t.lower_ in ctx.author_names for t in ctx.tokens_of(candidate))


def _clears_self(ctx: DraftContext, candidate: Candidate) -> bool:
    """The phrase is about the author ("I'm 34", "I turned 30 on call"): walking back through the
    sentence, the nearest person mentioned is first person, not a patient or a third person."""
    return ctx.person_before(candidate.token_start) == "first"


def _clears_broad_place(ctx: DraftContext, candidate: Candidate) -> bool:
    """States, countries and regions are not identifiers (Safe Harbor stops below state level)."""
    broad = ctx.lexicon_tokens("broad_places")
    names = [t.i for t in ctx.tokens_of(candidate) if t.pos_ == "PROPN" or t.is_title]
    return bool(names) and all(i in broad for i in names)


def _clears_heading(ctx: DraftContext, candidate: Candidate) -> bool:
    """A Title Case Line Like This is a heading, where capitals say nothing about names."""
    return ctx.heading_lines(candidate.start, candidate.end)


def _clears_self_subject(ctx: DraftContext, candidate: Candidate) -> bool:
    """The match describes the author: its clause's subject is I or we ("I felt like an idiot")."""
    return grammatical_subject(ctx.doc[candidate.token_start]) in SELF_SUBJECTS


def grammatical_subject(token) -> str | None:
    """Lower-case text of the subject of the clause `token` sits in, or None when the clause has none.

    Climbs to the clause's verb; a conjoined or open clause ("I went home and punched a pillow")
    shares its head's subject, but a complement or adverbial clause without one ("me, after call,
    because pharmacy lost the order AGAIN") is not about the main clause's subject.
    """
    for _ in range(MAX_TREE_STEPS):
        for child in token.children:
            if child.dep_ in ("nsubj", "nsubjpass", "expl", "csubj", "csubjpass"):
                return child.lower_
        if token.head.i == token.i:
            return None
        if token.pos_ in ("VERB", "AUX") and token.dep_ not in ("conj", "xcomp", "aux", "auxpass"):
            return None
        token = token.head
    return None


_QUOTES = frozenset({"'", '"', "‘", "’", "“", "”", "`", "``", "''"})


def _clears_mention(ctx: DraftContext, candidate: Candidate) -> bool:
    """The word is mentioned, not used: quoted right after a word about words ("stop calling
    patients 'frequent flyers'", "the term 'gomer'"). Cue words are the `mention_cues` lexicon."""
    doc, start, end = ctx.doc, candidate.token_start, candidate.token_end
    if start == 0 or end >= len(doc) or doc[start - 1].text not in _QUOTES or doc[end].text not in _QUOTES:
        return False
    cues = ctx.ruleset.lexicon("mention_cues")
    return any(doc[i].lower_ in cues or doc[i].lemma_.lower() in cues for i in range(max(0, start - 5), start - 1))


def _clears_negated(ctx: DraftContext, candidate: Candidate) -> bool:
    """The word is denied: "the program is no joke", "she is not lazy", "never useless"."""
    token = ctx.doc[candidate.token_start:candidate.token_end].root
    holders = [token, token.head] if token.dep_ in ("attr", "acomp", "oprd") else [token]
    return any(child.dep_ == "neg" or (child.dep_ == "det" and child.lower_ == "no")
               for holder in holders for child in holder.children)


def _clears_advice(ctx: DraftContext, candidate: Candidate) -> bool:
    """The word is what an imperative tells the reader not to be: "don't be an idiot, wear sunscreen"."""
    token = ctx.doc[candidate.token_start:candidate.token_end].root
    verb = token.head
    return (token.dep_ in ("attr", "acomp") and verb.tag_ == "VB" and verb.dep_ in ("ROOT", "conj")
            and not any(child.dep_ in ("nsubj", "nsubjpass") for child in verb.children))


def _clears_conditional(ctx: DraftContext, candidate: Candidate) -> bool:
    """The word sits in a condition ("if a consultant is rude to you, tell your chief")."""
    token = ctx.doc[candidate.token_start]
    for _ in range(MAX_TREE_STEPS):
        if any(child.dep_ == "mark" and child.lower_ in CONDITIONAL_MARKS for child in token.children):
            return True
        if token.head.i == token.i:
            return False
        token = token.head
    return False


def _clears_positive_sentence(ctx: DraftContext, candidate: Candidate) -> bool:
    """The rest of the sentence is clearly positive ("asked me to present AGAIN because I did so well!")."""
    return ctx.polarity_around(candidate) >= POSITIVE_SENTENCE


def _clears_hypothetical(ctx: DraftContext, candidate: Candidate) -> bool:
    return bool(ctx.hits.get("hypothetical_cues"))


NEEDS: dict[str, Condition] = {
    "patient-draft": _needs_patient_draft,
    "encounter-sentence": _needs_encounter_sentence,
    "encounter-nearby": _needs_encounter_nearby,
    "person-target": _needs_person_target,
    "aimed-at-target": _needs_aimed_at_target,
    "author-subject": _needs_author_subject,
    "venting-sentence": _needs_venting_sentence,
}
CLEARS: dict[str, Condition] = {
    "gratitude": _clears_gratitude,
    "eponym": _clears_eponym,
    "clinical-term": _clears_clinical_term,
    "author": _clears_author,
    "self": _clears_self,
    "broad-place": _clears_broad_place,
    "heading": _clears_heading,
    "hypothetical": _clears_hypothetical,
    "self-subject": _clears_self_subject,
    "mention": _clears_mention,
    "negated": _clears_negated,
    "advice": _clears_advice,
    "conditional": _clears_conditional,
    "positive-sentence": _clears_positive_sentence,
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
    if context.not_near and _is_near(ctx, candidate, context.not_near, context.window):
        return False
    return not context.near or _is_near(ctx, candidate, context.near, context.window)


def _follows(ctx: DraftContext, candidate: Candidate, words: tuple[str, ...]) -> bool:
    """The match comes right after one of `words`: a name after "Dr." is a colleague, after "@" or "#"
    an account or a hashtag."""
    expanded = _expand(ctx, words)
    before = candidate.start
    while before and ctx.text[before - 1].isspace():
        before -= 1
    if before and not ctx.text[before - 1].isalnum() and ctx.text[before - 1] in expanded:
        return True
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
    if ctx.word_in({w for w in words if not lexicon_ref(w)}, start, end):
        return True
    return any(ctx.hit_overlaps(lexicon_ref(w), start, end) for w in words if lexicon_ref(w))


def _expand(ctx: DraftContext, words: tuple[str, ...]) -> frozenset[str]:
    """Plain words as given, '@name' replaced by that lexicon's words."""
    out: set[str] = set()
    for word in words:
        name = lexicon_ref(word)
        out.update(ctx.ruleset.lexicon(name) if name else (word,))
    return frozenset(out)
