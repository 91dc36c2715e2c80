"""Cheap necessary conditions that let a token pattern or a regex skip drafts it cannot match.

Most rules match nothing in most drafts, yet spaCy's Matcher tries every pattern's first token at every
token (in Python, for IN and REGEX tests) and every regex scans the whole draft. A token pattern can only
match a Doc that holds one of the accepted values of each token it requires, and a regex only a text that
holds one of its required literal strings. Both are checked against values gathered once per draft, and a
pattern is skipped only when it provably cannot match, so results never change; only the time does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import product
from re import _constants as sre  # the parser behind `re`; stable since 3.11, and any surprise means "no filter"
from re import _parser as sre_parse
from typing import Any, Iterable

from spacy.attrs import DEP, ENT_TYPE, LEMMA, LOWER, NORM, ORTH, POS, TAG
from spacy.matcher import Matcher
from spacy.strings import StringStore
from spacy.tokens import Doc
from spacy.vocab import Vocab

# -- regexes ----------------------------------------------------------------------------------------

# Under IGNORECASE, `re` lets these four non-ASCII letters match ASCII ones (the `re` docs list them);
# folding them first keeps a required ASCII literal findable in `fold(text)` whenever the regex matches.
_FOLD = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"})
# Literal sets are built up to this many strings (a list of web domains is hundreds)...
_MAX_STRINGS = 4096
# ...and tested one string at a time up to this many; a larger set is used only when its strings start
# with one or two characters (".com", ".org", ...), so only the places those characters occur are tried.
_FEW = 64
# A literal this long is rare enough in a draft that a longer one would not skip more often.
_RARE_ENOUGH = 4


class Literals(frozenset):
    """Lower-case ASCII strings one of which a matching text must hold (in `fold(text)`)."""

    def __init__(self, strings: Iterable[str]):
        super().__init__()
        # first character -> the lengths of the strings that start with it, for large sets
        self.by_first: dict[str, list[int]] | None = None
        if len(self) > _FEW:
            self.by_first = {first: sorted({len(s) for s in self if s[0] == first}) for first in {s[0] for s in self}}

    @property
    def usable(self) -> bool:
        return self.by_first is None or len(self.by_first) <= 2

    def found_in(self, folded: str) -> bool:
        if self.by_first is None:
            return any(string in folded for string in self)
        for first, lengths in self.by_first.items():
            at = folded.find(first)
            while at != -1:
                if any(folded[at:at + length] in self for length in lengths):
                    return True
                at = folded.find(first, at + 1)
        return False


def fold(text: str) -> str:
    """The text that required literals (lower-case ASCII) are looked for in."""
    return text.translate(_FOLD).lower()


def required_literals(pattern: re.Pattern[str]) -> Literals | None:
    """Lower-case ASCII strings, one of which occurs in `fold(text)` whenever `pattern` matches `text`.

    None when the pattern requires no literal text (or cannot be read), meaning: always run it. Only
    ASCII literals are used, since case-insensitive matching of other scripts has more exceptions.
    """
    try:
        parsed = sre_parse.parse(pattern.pattern, pattern.flags)
        return _required(list(parsed))
    except Exception:  # a parser detail this reading does not know: run the regex, as without a filter
        return None


def literal_check(literals: Literals | None, folded: str, present: set[str] | None = None) -> bool:
    """Whether a regex with these required literals could match the text `folded` was made from.

    `present` is what a LiteralIndex holding these literals found in `folded`, if the caller has it.
    """
    if literals is None:
        return True
    if present is None or literals.by_first is not None:
        return literals.found_in(folded)
    return not literals.isdisjoint(present)


class LiteralIndex:
    """Which strings of many literal sets occur in a text, found in one pass of one regex.

    Testing ninety regexes' literals one substring search at a time costs more than some of the regexes.
    A lookahead over a trie of all the strings reports, at every place in the text, the longest string
    starting there; the shorter ones starting there are its prefixes, so those are added from a table.
    Large sets (`Literals.by_first`) keep their own test.
    """

    def __init__(self, sets: Iterable[Literals | None]):
        strings = {s for literals in sets if literals is not None and literals.by_first is None for s in literals}
        self.singles = frozenset(s for s in strings if len(s) == 1)
        longer = {s for s in strings if len(s) > 1}
        self.pattern = re.compile(f"(?=({_trie_pattern(longer)}))") if longer else None
        self.prefixes = {s: frozenset(s[:n] for n in range(2, len(s) + 1) if s[:n] in longer) for s in longer}

    def present(self, folded: str) -> set[str]:
        found = set(self.singles.intersection(folded))
        if self.pattern is not None:
            for match in self.pattern.finditer(folded):
                found |= self.prefixes[match.group(1)]
        return found


def _trie_pattern(strings: Iterable[str]) -> str:
    """A regex matching the longest of `strings` that starts where it is tried (a greedy trie)."""
    trie: dict = {}
    for string in strings:
        node = trie
        for char in string:
            node = node.setdefault(char, {})
        node[""] = {}  # a string ends here

    def branches(node: dict) -> str:
        options = [re.escape(char) + branches(child) for char, child in sorted(node.items()) if char]
        if not options:
            return ""
        body = options[0] if len(options) == 1 else "(?:" + "|".join(options) + ")"
        return f"(?:{body})?" if "" in node else body  # longer strings first, else end here

    return branches(trie)


_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)


def _required(items: list) -> set[str] | None:
    """The most selective literal set among the sequence's parts that every match must contain.

    `run` holds the exact strings the current stretch of fixed items can match; a stretch ends at an
    item of unknown text, and every stretch (and every required part inside a group) is a candidate.
    """
    candidates: list[set[str]] = []
    run: set[str] = {""}
    for op, av in items:
        if op is sre.ASSERT:  # a lookaround's text is in the draft, next to the match
            direction, body = av
            exact = _exact(list(body))
            if exact is None:
                candidates.append(_required(list(body)) or set())
            elif direction < 0:  # the text just before this point is the lookbehind's
                candidates.append(run)
                run = exact
            else:  # the text just after this point starts with the lookahead's
                candidates.append(_join(run, exact) or exact)
            continue
        exact = _exact_item(op, av)
        if exact is not None:
            candidates.append(run)  # a shorter stretch with fewer strings may be the cheaper test
            run = _join(run, exact) or exact
            continue
        body = _exact(list(av[2])) if op in _REPEATS and av[0] >= 1 else None
        if body is not None:
            # One or more copies of fixed text: the first follows the run, the last starts the next one.
            candidates.append(_join(run, body) or body)
            run = body
            continue
        candidates.append(run)
        run = {""}
        inner = _required_item(op, av)
        if inner:
            candidates.append(inner)
    candidates.append(run)
    useful = [literals for literals in map(_literals, candidates) if literals is not None]
    # Longer strings are rarer, up to a point ("mayor" is as rare as "mayor "); then fewer strings to test;
    # then the longer after all.
    return max(useful, key=lambda c: (min(_RARE_ENOUGH, *map(len, c)), -len(c), min(map(len, c))), default=None)


def _literals(strings: set[str] | None) -> Literals | None:
    """The set as Literals if it requires something and can be tested cheaply; "lm" makes "lmf" redundant."""
    if not strings or "" in strings:
        return None
    literals = Literals(s for s in strings if not any(t != s and t in s for t in strings)) if len(strings) <= _FEW \
        else Literals(strings)
    return literals if literals.usable else None


def _join(left: set[str], right: set[str]) -> set[str] | None:
    """Every concatenation of a left and a right string; None when there would be too many."""
    if len(left) * len(right) > _MAX_STRINGS:
        return None
    return {a + b for a, b in product(left, right)}


def _group_body(op, av) -> list | None:
    """The items inside a group, capturing or not, atomic or not; None if the item is no group."""
    if op is sre.SUBPATTERN:
        return list(av[-1])
    if op is sre.ATOMIC_GROUP:
        return list(av)
    return None


def _required_item(op, av) -> set[str] | None:
    body = _group_body(op, av)
    if body is not None:
        return _required(body)
    if op is sre.BRANCH:
        return _union(_required(list(alternative)) for alternative in av[1])
    if op in _REPEATS and av[0] >= 1:
        return _required(list(av[2]))
    return None


def _exact_item(op, av) -> set[str] | None:
    """The finite set of strings an item matches (lower-cased), or None if it is not such an item."""
    if op is sre.LITERAL:
        return {chr(av).lower()} if av < 128 else None
    if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
        return {""}  # zero-width: the literals on either side stay adjacent
    if op is sre.IN:
        if all(kind is sre.LITERAL and value < 128 for kind, value in av):
            return {chr(value).lower() for _, value in av}
        return None
    body = _group_body(op, av)
    if body is not None:
        return _exact(body)
    if op is sre.BRANCH:
        return _union(_exact(list(alternative)) for alternative in av[1])
    if op in _REPEATS and av[1] <= 1:
        body = _exact(list(av[2]))
        return None if body is None else (body | {""} if av[0] == 0 else body)
    return None


def _exact(items: list) -> set[str] | None:
    strings: set[str] | None = {""}
    for op, av in items:
        exact = _exact_item(op, av)
        strings = None if exact is None else _join(strings, exact)
        if strings is None:
            return None
    return strings


def _union(parts: Iterable[set[str] | None]) -> set[str] | None:
    union: set[str] = set()
    for part in parts:
        if part is None:
            return None
        union |= part
    return union if len(union) <= _MAX_STRINGS else None


# -- token patterns ---------------------------------------------------------------------------------

# Attributes the Matcher compares as string ids and Doc.to_array reads for every token in one call.
_ANCHOR_ATTRS = {
    "ORTH": ORTH, "TEXT": ORTH, "LOWER": LOWER, "NORM": NORM, "LEMMA": LEMMA,
    "TAG": TAG, "POS": POS, "DEP": DEP, "ENT_TYPE": ENT_TYPE,
}
# Attributes whose string is a piece of the draft, so a REGEX test on them needs its literals there.
_TEXT_ATTRS = {"ORTH", "TEXT", "LOWER"}
_COUNT_OP = re.compile(r"\{(\d*)(?:,\d*)?\}")

# (attribute id, string ids): a Doc can match only if one of its tokens has one of these values; or
# (None, Literals): only if its folded text holds one of these strings.
Requirement = tuple[int, frozenset[int]] | tuple[None, Literals]


def pattern_requirements(pattern: list[dict[str, Any]], strings: StringStore) -> list[Requirement]:
    """What a token pattern needs from a Doc: for each token it cannot skip, each exact or IN test on a
    string attribute and each REGEX test on the token's text. Other tests give no requirement."""
    requirements: list[Requirement] = []
    for spec in pattern:
        spec = {key.upper() if isinstance(key, str) else key: value for key, value in spec.items()}
        if not _token_required(spec.get("OP")):
            continue
        for key, value in spec.items():
            attr = _ANCHOR_ATTRS.get(key) if isinstance(key, str) else None
            accepted = _accepted_values(value)
            if attr is not None and accepted is not None:
                requirements.append((attr, frozenset(strings.add(v) for v in accepted)))
            elif key in _TEXT_ATTRS and isinstance(value, dict) and isinstance(value.get("REGEX"), str):
                try:  # a REGEX test is case-sensitive; RE2 syntax Python cannot read gives no requirement
                    literals = required_literals(re.compile(value["REGEX"]))
                except (re.error, RecursionError, OverflowError):
                    literals = None
                if literals is not None:
                    requirements.append((None, literals))
    return requirements


def _token_required(op: Any) -> bool:
    """Whether a token with this OP must occur in every match ("!" is a negation, "?" and "*" optional)."""
    if op is None or op == "+":
        return True
    counted = _COUNT_OP.fullmatch(op) if isinstance(op, str) else None
    return bool(counted and counted.group(1) and int(counted.group(1)) >= 1)


def _accepted_values(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict) and isinstance(value.get("IN"), list) and all(isinstance(v, str) for v in value["IN"]):
        return value["IN"]
    return None


class AnchoredMatcher:
    """A spaCy Matcher split by key, where only the patterns a Doc can match are run.

    Same matches as one Matcher with the same keys and options: patterns that cannot match add nothing,
    and greedy filtering is per key either way. Matches come back grouped by key, in the order keys were
    added. Each key keeps one Matcher per set of patterns that has been possible in some Doc.
    """

    def __init__(self, vocab: Vocab, validate: bool = False):
        self.vocab = vocab
        self.validate = validate
        self._keys: list[_Key] = []
        self._attrs: list[int] = []
        # Every distinct requirement, checked once per Doc; a pattern's needs are a bit mask over them.
        self._requirements: dict[Requirement, int] = {}

    def add(self, key: str, patterns: list[list[dict[str, Any]]],
            matcher_patterns: list[list[dict[str, Any]]] | None = None, **options: Any) -> None:
        """As Matcher.add; spaCy's errors about a bad pattern come through unchanged, at once.

        `matcher_patterns`, if given, are what spaCy runs, one for each of `patterns`, which say what a
        Doc needs (the rules' REGEX tests run as RE2-backed extension attributes that spaCy cannot read
        literals from)."""
        masks = []
        for pattern in patterns:
            mask = 0
            for attr, wanted in pattern_requirements(pattern, self.vocab.strings):
                mask |= 1 << self._requirements.setdefault((attr, wanted), len(self._requirements))
                if attr is not None and attr not in self._attrs:
                    self._attrs.append(attr)
            masks.append(mask)
        entry = _Key(key, matcher_patterns or patterns, options, masks)
        entry.matcher(tuple(range(len(patterns))), self.vocab, self.validate)
        self._keys.append(entry)

    def __call__(self, doc: Doc, folded: str | None = None, **options: Any) -> list[tuple[int, int, int]]:
        """Matches as Matcher(doc, **options) gives them; `folded` is `fold(draft)` if the caller has it."""
        present = doc_values(doc, self._attrs)
        met = 0
        for (attr, wanted), bit in self._requirements.items():
            if attr is None:
                if folded is None:  # made on first need: Doc.text is rebuilt from the tokens per access
                    folded = fold(doc.text)
                if literal_check(wanted, folded):
                    met |= 1 << bit
            elif not wanted.isdisjoint(present[attr]):
                met |= 1 << bit
        unmet = ~met
        matches: list[tuple[int, int, int]] = []
        for entry in self._keys:
            possible = tuple(i for i, needs in enumerate(entry.needs) if not needs & unmet)
            if possible:
                matches.extend(entry.matcher(possible, self.vocab, self.validate)(doc, **options))
        return matches


@dataclass
class _Key:
    """One key's patterns, what each needs (a mask of requirements), and a Matcher for each set of them
    that was possible."""

    key: str
    patterns: list[list[dict[str, Any]]]
    options: dict[str, Any]
    needs: list[int]
    matchers: dict[tuple[int, ...], Matcher] = field(default_factory=dict)

    def matcher(self, chosen: tuple[int, ...], vocab: Vocab, validate: bool) -> Matcher:
        found = self.matchers.get(chosen)
        if found is None:
            found = Matcher(vocab, validate=validate)
            found.add(self.key, [self.patterns[i] for i in chosen], **self.options)
            self.matchers[chosen] = found
        return found


def doc_values(doc: Doc, attrs: list[int]) -> dict[int, set[int]]:
    """The set of values each attribute takes in `doc`, read with one `to_array` (no Token objects)."""
    if not attrs:
        return {}
    array = doc.to_array(attrs).reshape(len(doc), len(attrs))
    return {attr: set(array[:, column].tolist()) for column, attr in enumerate(attrs)}
