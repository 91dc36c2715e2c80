"""The context language: a few predicates with parameters, combined with any / all / not.

A rule says what a match needs around it (`needs:`) and what clears it (`clears:`), each a list of
conditions. A condition is a named macro from `rules/context.yaml` ("patient-draft", "gratitude") or a
predicate written in place:

    needs: [{words: {in: "@patient_refs", scope: sentence}}]
    clears: [{any: [{preceded_by: {in: [dr, "@"]}}, {fact: {name: encounter, scope: nearby}}]}]

This module is the one registry of predicate names and their parameters. A name or parameter it does
not know, a lexicon that does not exist, or a macro that refers to itself fails at load with the file,
the rule and the field, never at the first draft. Predicates read the parse (checker/syntax.py) and
the per-draft indices of checker/context.py, so each costs about the same however long the draft.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from checker.candidates import Candidate
from checker.context import DraftContext
from checker.errors import RuleFileError
from checker.signals import SIGNAL_NAMES
from checker.syntax import (
    clause_head_of,
    described_by,
    grammatical_subject,
    heads_condition,
    inside_condition,
    is_imperative,
)

Test = Callable[[DraftContext, Candidate], bool]
SCOPES = ("match", "clause", "sentence", "nearby", "line", "draft", "window")
FACT_SCOPES = ("sentence", "nearby", "draft")
_QUOTES = frozenset({"'", '"', "‘", "’", "“", "”", "`", "``", "''"})


@dataclass(frozen=True)
class Condition:
    """A compiled condition: its test, and the facts it reads (so the loader can order the rules)."""

    test: Test
    facts: frozenset[str] = frozenset()  # read as they finally are
    base_facts: frozenset[str] = frozenset()  # read as their sources set them (the rule sets them itself)


@dataclass
class Environment:
    """What compiling a rule's conditions needs: the lexicons, the macros, the declared facts, the facts
    the rule itself sets, and where to point an error."""

    lexicons: Mapping[str, frozenset[str]]
    macros: Mapping[str, Any]
    facts: Iterable[str]
    sets: frozenset[str]
    where: str
    _expanding: list[str] = field(default_factory=list)

    def fail(self, problem: str) -> RuleFileError:
        return RuleFileError(f"{self.where}: {problem}")


@dataclass(frozen=True)
class Words:
    """Plain words (lower case) and lexicon names, from a parameter like `["@gratitude", thanks]`."""

    plain: frozenset[str]
    lexicons: tuple[str, ...]

    def every_word(self, lexicons: Mapping[str, frozenset[str]]) -> frozenset[str]:
        return self.plain.union(*(lexicons[name] for name in self.lexicons))


def compile_condition(spec: Any, env: Environment) -> Condition:
    """A macro name or a one-key mapping {predicate: parameters} (any / all / not combine others)."""
    if isinstance(spec, str):
        if spec not in env.macros:
            raise env.fail(f"unknown condition '{spec}' (known: {', '.join(sorted(env.macros))})")
        if spec in env._expanding:
            raise env.fail(f"condition '{spec}' refers to itself")
        env._expanding.append(spec)
        try:
            return compile_condition(env.macros[spec], env)
        finally:
            env._expanding.pop()
    if not isinstance(spec, dict) or len(spec) != 1:
        raise env.fail("a condition is a name or a mapping with one predicate, e.g. {words: {in: '@gratitude'}}")
    (name, params), = spec.items()
    if name in ("any", "all"):
        if not isinstance(params, list) or not params:
            raise env.fail(f"'{name}' takes a list of conditions")
        parts = [compile_condition(part, env) for part in params]
        tests = [part.test for part in parts]
        test: Test = (lambda ctx, c: any(t(ctx, c) for t in tests)) if name == "any" \
            else (lambda ctx, c: all(t(ctx, c) for t in tests))
        return Condition(test, frozenset().union(*(p.facts for p in parts)), frozenset().union(*(p.base_facts for p in parts)))
    if name == "not":
        inner = compile_condition(params, env)
        return Condition(lambda ctx, c: not inner.test(ctx, c), inner.facts, inner.base_facts)
    predicate = PREDICATES.get(name)
    if predicate is None:
        raise env.fail(f"unknown predicate '{name}' (known: any, all, not, {', '.join(sorted(PREDICATES))})")
    return predicate.compile(params, env)


# -- the registry -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Predicate:
    """A predicate's parameters (name -> (kind, default); no default means required) and its builder."""

    name: str
    params: Mapping[str, tuple[str, Any]]
    build: Callable[[dict[str, Any], Environment], Condition]
    doc: str

    def compile(self, raw: Any, env: Environment) -> Condition:
        raw = {} if raw is None else raw
        if not isinstance(raw, dict):
            raise env.fail(f"'{self.name}' takes a mapping of parameters ({', '.join(self.params) or 'none'})")
        unknown = set(raw) - set(self.params)
        if unknown:
            raise env.fail(f"'{self.name}' has no parameter '{sorted(unknown)[0]}' (known: {', '.join(self.params) or 'none'})")
        values = {}
        for param, (kind, default) in self.params.items():
            if param not in raw:
                if default is _REQUIRED:
                    raise env.fail(f"'{self.name}' needs '{param}'")
                values[param] = default
            else:
                values[param] = _read(kind, raw[param], f"'{self.name}.{param}'", env)
        return self.build(values, env)


_REQUIRED = object()
PREDICATES: dict[str, Predicate] = {}


def predicate(name: str, doc: str, /, **params: tuple[str, Any]):
    """Register a predicate under `name`, with its parameters as `param=(kind, default)`."""
    def register(build: Callable[[dict[str, Any], Environment], Condition]):
        PREDICATES[name] = Predicate(name, params, build, doc)
        return build
    return register


def _read(kind: str, value: Any, what: str, env: Environment) -> Any:
    """Check one parameter value against its kind; lexicon references are resolved here, once."""
    if kind == "words":
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items or not all(isinstance(i, str) and i for i in items):
            raise env.fail(f"{what} must be a word, a '@lexicon', or a list of them")
        lexicons = tuple(i[1:] for i in items if len(i) > 1 and i.startswith("@"))
        for name in lexicons:
            if name not in env.lexicons:
                raise env.fail(f"{what}: unknown lexicon '@{name}'")
        return Words(frozenset(i.lower() for i in items if not (len(i) > 1 and i.startswith("@"))), lexicons)
    if kind.startswith("choice:"):
        choices = kind[len("choice:"):].split("|")
        if value not in choices:
            raise env.fail(f"{what} must be one of {', '.join(choices)}")
        return value
    if kind == "choices":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise env.fail(f"{what} must be a list of words")
        return tuple(value)
    if kind == "bool":
        if not isinstance(value, bool):
            raise env.fail(f"{what} must be true or false")
        return value
    if kind == "count":
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 50:
            raise env.fail(f"{what} must be a whole number from 0 to 50")
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not -1 <= value <= 1:
            raise env.fail(f"{what} must be a number from -1 to 1")
        return float(value)
    if kind == "probability":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise env.fail(f"{what} must be a probability from 0 to 1")
        return float(value)
    if kind == "fact":
        if value not in env.facts:
            raise env.fail(f"{what}: unknown fact '{value}' (known: {', '.join(sorted(env.facts))})")
        return value
    raise AssertionError(kind)


# -- where: scopes ----------------------------------------------------------------------------------

def scope_range(ctx: DraftContext, candidate: Candidate, scope: str, window: int) -> tuple[int, int]:
    """The token range a scope names around a candidate."""
    if scope == "match":
        return candidate.token_start, candidate.token_end
    if scope == "window":
        return max(0, candidate.token_start - window), min(len(ctx.doc), candidate.token_end + window)
    if scope == "draft":
        return 0, len(ctx.doc)
    if scope == "line":
        return ctx.line_tokens(candidate)
    if scope == "clause":
        return ctx.clause_tokens(candidate.token_start)
    index = ctx.sentence_index(candidate)
    if scope == "nearby":
        return ctx.sentence_bounds[max(0, index - 1)][0], ctx.sentence_bounds[min(len(ctx.sentence_bounds) - 1, index + 1)][1]
    return ctx.sentence_bounds[index]


# -- the predicates ---------------------------------------------------------------------------------

_TOKEN_KINDS = {
    "words": lambda token: not token.is_punct,
    "alpha": lambda token: token.is_alpha,
    "names": lambda token: token.pos_ == "PROPN" or token.is_title,
}


@predicate(
    "words", "A word or phrase of a lexicon (or a listed word) occurs in a scope. With `every`, every word "
    "of the match (of a kind: words, alpha, names) is one; with `first`, its first word is (in capitals, "
    "with `upper`).",
    **{"in": ("words", _REQUIRED)}, scope=("choice:" + "|".join(SCOPES), "sentence"), window=("count", 0),
    every=("bool", False), first=("bool", False), upper=("bool", False),
    of=("choice:" + "|".join(_TOKEN_KINDS), "words"), when_empty=("bool", False),
)
def _words(p: dict[str, Any], env: Environment) -> Condition:
    words: Words = p["in"]
    if p["every"] or p["first"]:
        kind = _TOKEN_KINDS[p["of"]]

        def in_lexicon(ctx: DraftContext, token) -> bool:
            return token.lower_ in words.plain or any(token.i in ctx.lexicon_tokens(name) for name in words.lexicons)

        def test(ctx: DraftContext, c: Candidate) -> bool:
            tokens = [t for t in ctx.doc[c.token_start:c.token_end] if kind(t)]
            if not tokens:
                return p["when_empty"]
            if p["first"]:
                return (not p["upper"] or tokens[0].is_upper) and in_lexicon(ctx, tokens[0])
            return all(in_lexicon(ctx, t) for t in tokens)
        return Condition(test)
    scope, window = p["scope"], p["window"]

    def test(ctx: DraftContext, c: Candidate) -> bool:
        start, end = scope_range(ctx, c, scope, window)
        return ctx.word_in(words.plain, start, end) or any(ctx.hit_overlaps(name, start, end) for name in words.lexicons)
    return Condition(test)


@predicate("preceded_by", "The match comes right after one of these words or characters ('Dr.', '@', '#').",
           **{"in": ("words", _REQUIRED)})
def _preceded_by(p: dict[str, Any], env: Environment) -> Condition:
    expanded = p["in"].every_word(env.lexicons)

    def test(ctx: DraftContext, c: Candidate) -> bool:
        before = c.start
        while before and ctx.text[before - 1].isspace():
            before -= 1
        if before and not ctx.text[before - 1].isalnum() and ctx.text[before - 1] in expanded:
            return True
        if c.token_start == 0:
            return False
        previous = ctx.doc[c.token_start - 1]
        if previous.is_punct and previous.text == "." and c.token_start > 1:
            previous = ctx.doc[c.token_start - 2]
        return previous.lower_.rstrip(".") in expanded or previous.lower_ in expanded
    return Condition(test)


@predicate("followed_by", "The word after the match (past up to three `skipping` tokens) is one of these, "
           "as a lemma with `lemma`, and of one of the parts of speech in `pos` if given.",
           **{"in": ("words", _REQUIRED)}, lemma=("bool", False), pos=("choices", ()), skipping=("choices", ()))
def _followed_by(p: dict[str, Any], env: Environment) -> Condition:
    expanded, skipping, pos = p["in"].every_word(env.lexicons), frozenset(p["skipping"]), frozenset(p["pos"])

    def test(ctx: DraftContext, c: Candidate) -> bool:
        doc, after = ctx.doc, c.token_end
        while after < min(len(doc), c.token_end + 3) and doc[after].lower_ in skipping:
            after += 1
        if after >= len(doc) or (pos and doc[after].pos_ not in pos):
            return False
        word = doc[after].lemma_.lower() if p["lemma"] else doc[after].lower_
        return word in expanded
    return Condition(test)


@predicate("fact", "A fact (declared in `facts:`) holds in the match's sentence, the sentences either side "
           "of it, or anywhere in the draft.", name=("fact", _REQUIRED), scope=("choice:" + "|".join(FACT_SCOPES), "sentence"))
def _fact(p: dict[str, Any], env: Environment) -> Condition:
    name, scope = p["name"], p["scope"]
    base = name in env.sets  # a rule that sets a fact reads it as its sources set it

    def test(ctx: DraftContext, c: Candidate) -> bool:
        if scope == "draft":
            return ctx.fact_anywhere(name, base)
        index = ctx.sentence_index(c)
        if scope == "nearby":
            return any(ctx.fact(name, i, base) for i in range(max(0, index - 1), min(len(ctx.sentence_bounds), index + 2)))
        return ctx.fact(name, index, base)
    return Condition(test, frozenset() if base else frozenset({name}), frozenset({name}) if base else frozenset())


@predicate("subject", "The subject of the match's clause is one of these words, or (with `or_none`) it has none.",
           **{"in": ("words", _REQUIRED)}, or_none=("bool", False))
def _subject(p: dict[str, Any], env: Environment) -> Condition:
    words = p["in"].every_word(env.lexicons)

    def test(ctx: DraftContext, c: Candidate) -> bool:
        subject = grammatical_subject(ctx.doc[c.token_start])
        return (subject is None and p["or_none"]) or subject in words
    return Condition(test)


@predicate("said_of", "The match describes one of these: it modifies one, is predicated of one, is said of "
           "one of the `pronouns`, or stands in a verbless fragment right after a sentence naming one.",
           **{"in": ("words", _REQUIRED)}, pronouns=("choices", ()))
def _said_of(p: dict[str, Any], env: Environment) -> Condition:
    words, pronouns = p["in"], frozenset(p["pronouns"])

    def test(ctx: DraftContext, c: Candidate) -> bool:
        targets = ctx.tokens_naming(words.lexicons, words.plain)
        about = described_by(ctx.doc[c.token_start:c.token_end].root)
        if about & targets or any(ctx.doc[i].lower_ in pronouns for i in about):
            return True
        index = ctx.sentence_index(c)
        start, end = ctx.sentence_bounds[index]
        if any(t.pos_ in ("VERB", "AUX") for t in ctx.doc[start:end]):
            return False
        first = ctx.sentence_bounds[max(0, index - 1)][0]
        return any(first <= i < end for i in targets)
    return Condition(test)


@predicate("negated", "The match is denied: 'no joke', 'not lazy', 'never useless'.")
def _negated(p: dict[str, Any], env: Environment) -> Condition:
    def test(ctx: DraftContext, c: Candidate) -> bool:
        token = ctx.doc[c.token_start:c.token_end].root
        holders = [token, token.head] if token.dep_ in ("attr", "acomp", "oprd") else [token]
        return any(child.dep_ == "neg" or (child.dep_ == "det" and child.lower_ == "no")
                   for holder in holders for child in holder.children)
    return Condition(test)


@predicate("advice", "The match is what an imperative tells the reader not to be: 'don't be an idiot'.")
def _advice(p: dict[str, Any], env: Environment) -> Condition:
    def test(ctx: DraftContext, c: Candidate) -> bool:
        token = ctx.doc[c.token_start:c.token_end].root
        verb = token.head
        return (token.dep_ in ("attr", "acomp") and verb.tag_ == "VB" and verb.dep_ in ("ROOT", "conj")
                and not any(child.dep_ in ("nsubj", "nsubjpass") for child in verb.children))
    return Condition(test)


@predicate("imperative", "The match's clause is an instruction: a bare verb with no subject ('Never dismiss ...').")
def _imperative(p: dict[str, Any], env: Environment) -> Condition:
    return Condition(lambda ctx, c: is_imperative(clause_head_of(ctx.doc[c.token_start])))


@predicate("conditional", "The match sits in a condition ('if a consultant is rude ...'); with `within: clause`, "
           "only when its own clause is the condition.", within=("choice:any|clause", "any"))
def _conditional(p: dict[str, Any], env: Environment) -> Condition:
    if p["within"] == "clause":
        return Condition(lambda ctx, c: heads_condition(clause_head_of(ctx.doc[c.token_start])))
    return Condition(lambda ctx, c: inside_condition(ctx.doc[c.token_start]))


@predicate("tone", "The rest of the match's sentence scores at least `at_least` (VADER compound, -1 to 1; "
           "clinical words neutral).", at_least=("number", _REQUIRED))
def _tone(p: dict[str, Any], env: Environment) -> Condition:
    threshold = p["at_least"]
    return Condition(lambda ctx, c: ctx.polarity_around(c) >= threshold)


@predicate("mentioned", "The match is mentioned, not used: quoted right after a word about words "
           "('stop calling patients \"frequent flyers\"').", cues=("words", _REQUIRED))
def _mentioned(p: dict[str, Any], env: Environment) -> Condition:
    cues = p["cues"].every_word(env.lexicons)

    def test(ctx: DraftContext, c: Candidate) -> bool:
        doc, start, end = ctx.doc, c.token_start, c.token_end
        if start == 0 or end >= len(doc) or doc[start - 1].text not in _QUOTES or doc[end].text not in _QUOTES:
            return False
        return any(doc[i].lower_ in cues or doc[i].lemma_.lower() in cues for i in range(max(0, start - 5), start - 1))
    return Condition(test)


@predicate("heading", "The match's line reads as a Title Case Heading, where capitals say nothing about names.")
def _heading(p: dict[str, Any], env: Environment) -> Condition:
    return Condition(lambda ctx, c: ctx.heading_lines(c.start, c.end))


@predicate("author", "A word of the match is part of the author's own name (--author, or 'I'm Alex').")
def _author(p: dict[str, Any], env: Environment) -> Condition:
    return Condition(lambda ctx, c: bool(ctx.author_names) and any(t.lower_ in ctx.author_names for t in ctx.tokens_of(c)))


@predicate("nearest_person", "Walking back through the sentence, the nearest person mentioned is first person "
           "(`is: first`) or someone else (`is: other`): one of the `first` words, or one of the `others` words or "
           "an occurrence of an `others_found` lexicon.", **{"is": ("choice:first|other", _REQUIRED)},
           first=("words", _REQUIRED), others=("words", _REQUIRED), others_found=("words", _REQUIRED))
def _nearest_person(p: dict[str, Any], env: Environment) -> Condition:
    wanted = p["is"]
    first, others = p["first"].every_word(env.lexicons), p["others"].every_word(env.lexicons)
    found = p["others_found"].lexicons

    def test(ctx: DraftContext, c: Candidate) -> bool:
        return ctx.person_before(c.token_start, first, others, found) == wanted
    return Condition(test)


@predicate("numeric", "Every word of the match is a number or holds a digit (a dose, a count, a code).")
def _numeric(p: dict[str, Any], env: Environment) -> Condition:
    def test(ctx: DraftContext, c: Candidate) -> bool:
        words = [t for t in ctx.tokens_of(c) if not t.is_punct]
        return all(t.like_num or any(ch.isdigit() for ch in t.text) for t in words)
    return Condition(test)


@predicate("suffix", "Every word of the match ends with one of these ('-mab', '-pril': a drug).",
           **{"in": ("words", _REQUIRED)})
def _suffix(p: dict[str, Any], env: Environment) -> Condition:
    suffixes = tuple(sorted(p["in"].every_word(env.lexicons)))

    def test(ctx: DraftContext, c: Candidate) -> bool:
        words = [t for t in ctx.tokens_of(c) if not t.is_punct]
        return bool(suffixes) and all(t.lower_.endswith(suffixes) for t in words)
    return Condition(test)


@predicate(
    "signal", "A learned signal (checker/signals.py) is at least / below a probability: `encounter` or "
    "`venting` in a sentence of the scope (the highest there), `name` of the match (it names a patient or "
    "a relative), `identifiable` of the draft. With the signals off the answer is `when_off`.",
    model=("choice:" + "|".join(SIGNAL_NAMES), _REQUIRED), at_least=("probability", None),
    below=("probability", None), scope=("choice:" + "|".join(FACT_SCOPES), "sentence"), when_off=("bool", False),
)
def _signal(p: dict[str, Any], env: Environment) -> Condition:
    if (p["at_least"] is None) == (p["below"] is None):
        raise env.fail("'signal' takes one of 'at_least' and 'below'")
    model, scope, when_off = p["model"], p["scope"], p["when_off"]
    at_least = p["at_least"] is not None
    threshold = p["at_least"] if at_least else p["below"]

    def score(ctx: DraftContext, c: Candidate) -> float:
        signals = ctx.signals
        if model == "name":
            return signals.name(c.token_start, c.token_end)
        if model == "identifiable":
            return signals.identifiable()
        index, last = ctx.sentence_index(c), len(ctx.sentence_bounds) - 1
        first, final = {"sentence": (index, index), "nearby": (max(0, index - 1), min(last, index + 1)),
                        "draft": (0, last)}[scope]
        return signals.highest(model, first, final)

    def test(ctx: DraftContext, c: Candidate) -> bool:
        if ctx.signals is None:
            return when_off
        return (score(ctx, c) >= threshold) == at_least
    return Condition(test)
