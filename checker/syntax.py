"""Questions about the parse that several parts of the checker ask: sentences, clauses, subjects,
conditions, imperatives, what a word describes. One place, so every detector and every context predicate
reads the parse the same way.

Every walk is bounded: a sentence longer than MAX_SENTENCE_TOKENS (a paste with no full stops) is read in
pieces of that many tokens, and a walk up the tree stops after MAX_TREE_STEPS, so no question costs more
than a constant however long or strange the draft.
"""

from __future__ import annotations

from dataclasses import dataclass

from spacy.tokens import Doc, Span, Token

MAX_SENTENCE_TOKENS = 150
MAX_TREE_STEPS = 40
SUBJECT_DEPS = frozenset({"nsubj", "nsubjpass", "expl", "csubj"})
# Dependencies that start a clause of their own when they head a verb.
CLAUSE_DEPS = frozenset({"conj", "ccomp", "advcl", "parataxis", "relcl"})
# Subordinators that make a clause a condition rather than a report ("if a consultant is rude ...").
CONDITIONAL_MARKS = frozenset({"if", "unless", "whether"})
RELATIVE_PRONOUNS = frozenset({"who", "that", "which"})


def bounded_sentences(doc: Doc) -> list[tuple[int, int]]:
    """The parser's sentences as (start, end) token indices, any longer than MAX_SENTENCE_TOKENS cut
    into pieces of that many."""
    bounds = []
    for sentence in doc.sents:
        for start in range(sentence.start, sentence.end, MAX_SENTENCE_TOKENS):
            bounds.append((start, min(start + MAX_SENTENCE_TOKENS, sentence.end)))
    return bounds


def subtree_within(token: Token, start: int, end: int) -> range:
    """A token's subtree as token indices, kept inside doc[start:end]. The parser is projective, so a
    subtree is the contiguous stretch from its left edge to its right edge; no walk over it is needed."""
    return range(max(token.left_edge.i, start), min(token.right_edge.i + 1, end))


def near(token: Token) -> tuple[int, int]:
    """The stretch of tokens a question about `token` may look at."""
    return token.i - MAX_SENTENCE_TOKENS, token.i + MAX_SENTENCE_TOKENS


def subject_tokens(head: Token | None) -> set[int]:
    """The subject phrase of a clause head; a relative clause's "who" stands for the noun it hangs on."""
    if head is None:
        return set()
    out: set[int] = set()
    for child in head.children:
        if child.dep_ in SUBJECT_DEPS:
            out.update(subtree_within(child, *near(head)))
            if child.lower_ in RELATIVE_PRONOUNS and head.dep_ == "relcl":
                out.add(head.head.i)
    return out


def borrowed_subject(verb: Token) -> list[Token]:
    """The subject phrase of a verb, borrowed from the verb it is conjoined with or completes."""
    for _ in range(5):
        subjects = [verb.doc[i] for child in verb.children if child.dep_ in SUBJECT_DEPS
                    for i in subtree_within(child, *near(verb))]
        if subjects or verb.dep_ not in ("conj", "xcomp") or verb.head.i == verb.i:
            return subjects
        verb = verb.head
    return []


def grammatical_subject(token: Token) -> str | None:
    """Lower-case text of the subject of the clause `token` sits in, or None when the clause has none.

    Climbs to the clause's verb; a conjoined or open clause ("I went home and punched a pillow") shares
    its head's subject, but a complement or adverbial clause without one ("me, after call, because
    pharmacy lost the order AGAIN") is not about the main clause's subject.
    """
    for _ in range(MAX_TREE_STEPS):
        for child in token.children:
            if child.dep_ in SUBJECT_DEPS or child.dep_ == "csubjpass":
                return child.lower_
        if token.head.i == token.i:
            return None
        if token.pos_ in ("VERB", "AUX") and token.dep_ not in ("conj", "xcomp", "aux", "auxpass"):
            return None
        token = token.head
    return None


def described_by(token: Token) -> set[int]:
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
        for child in verb.children:
            if child.dep_ in ("nsubj", "nsubjpass"):
                about.update(subtree_within(child, *near(verb)))  # "some of these patients", "our night float attending"
                if child.lower_ in RELATIVE_PRONOUNS and verb.dep_ == "relcl":
                    about.add(verb.head.i)
            elif child.dep_ == "csubj":
                about.update(subtree_within(child, *near(verb)))
    return about


def inside_condition(token: Token) -> bool:
    """The token sits in a condition: it, or a word above it, has "if", "unless" or "whether" as its mark
    ("if a consultant is rude to you, tell your chief")."""
    for _ in range(MAX_TREE_STEPS):
        if any(child.dep_ == "mark" and child.lower_ in CONDITIONAL_MARKS for child in token.children):
            return True
        if token.head.i == token.i:
            return False
        token = token.head
    return False


def heads_condition(head: Token) -> bool:
    """A clause head with "if", "unless" or "whether" as its own mark: the clause states a case."""
    return any(child.dep_ == "mark" and child.lower_ in CONDITIONAL_MARKS for child in head.children)


def is_imperative(head: Token) -> bool:
    """Advice and instructions ("Don't ignore ...", "Never dismiss ..."): a bare verb heading the
    sentence, no subject, no auxiliary but do."""
    if head.tag_ != "VB" or head.dep_ not in ("ROOT", "parataxis"):
        return False
    children = list(head.children)
    if any(child.dep_ in SUBJECT_DEPS for child in children):
        return False
    return not any(child.dep_ == "aux" and child.lower_ not in ("do", "did") for child in children)


def starts_clause(token: Token) -> bool:
    """A verb heading a clause of its own. A conjoined verb without its own subject ("was rude and
    wasted our time") stays in its head's clause: it says more about the same subject."""
    if token.dep_ == "ROOT":
        return True
    if token.dep_ not in CLAUSE_DEPS or token.pos_ not in ("VERB", "AUX"):
        return False
    return token.dep_ != "conj" or any(child.dep_ in SUBJECT_DEPS for child in token.children)


@dataclass(frozen=True)
class Clause:
    """One clause of a sentence: its own tokens (in order) and the tokens that say whom it is about."""

    tokens: tuple[Token, ...]
    about: frozenset[int]  # token indices: the clause's own, plus the noun a relative clause hangs on

    @property
    def text(self) -> str:
        return "".join(token.text_with_ws for token in self.tokens)

    @property
    def head(self) -> Token | None:
        return next((t for t in self.tokens if starts_clause(t)), None)


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


def clause_head_of(token: Token) -> Token:
    """The head of the clause a token sits in (the token itself when it heads one)."""
    for _ in range(MAX_TREE_STEPS):
        if starts_clause(token) or token.head.i == token.i:
            return token
        token = token.head
    return token
