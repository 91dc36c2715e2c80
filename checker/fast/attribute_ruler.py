"""spaCy's attribute ruler with the same output, found by lookup instead of by trying every pattern.

The English pipelines' `attribute_ruler` maps each fine-grained tag (and some word+tag pairs) to its
part of speech and morphology with ~180 one-token patterns. spaCy's Matcher tries every pattern at
every token, which made it a tenth of the whole parse of a tweet. Most patterns only ask that a token's
TAG/LOWER/DEP/... be (or not be) one of some values; those are looked up in dicts (a pattern with a set
of values becomes one entry per combination), from token values read with one `Doc.to_array`, and each
combination of token values is looked up once and remembered. The rest (regexes, several tokens) still
go through a Matcher, skipped on Docs that lack what they need (checker/fast/prefilter.py). Matches come back
in the order spaCy's own `match` returns them, so `set_annotations` applies them identically.
"""

from __future__ import annotations

from itertools import product
from operator import itemgetter
from typing import Any

from spacy.attrs import DEP, IS_SPACE, LOWER, NORM, ORTH, TAG
from spacy.pipeline import AttributeRuler
from spacy.tokens import Doc

from checker.fast.memo import BoundedMemo
from checker.fast.prefilter import AnchoredMatcher

# Pattern keys a dict lookup can answer exactly, and the attribute Doc.to_array reads for each.
_EXACT = {"ORTH": ORTH, "TEXT": ORTH, "LOWER": LOWER, "NORM": NORM, "TAG": TAG, "DEP": DEP, "IS_SPACE": IS_SPACE}


class IndexedAttributeRuler(AttributeRuler):
    """An AttributeRuler whose `match` finds one-token exact patterns by lookup; everything else is spaCy's."""

    _index: _Index | None = None

    def add(self, patterns: Any, attrs: dict, index: int = 0) -> None:
        super().add(patterns, attrs, index)
        self._index = None  # rebuilt on the next match, from every pattern added so far

    def clear(self) -> None:
        super().clear()
        self._index = None

    def match(self, doc: Doc) -> list[tuple[int, int, int, int]]:
        """The same (pattern number, match id, start, end) list as AttributeRuler.match, sorted alike."""
        if self._index is None:
            self._index = _Index(self)
        return self._index.match(doc)


class _Index:
    """The ruler's patterns as lookup tables over token values read with one `Doc.to_array` (no Token
    objects), plus a prefiltered Matcher for the patterns a table cannot answer."""

    def __init__(self, ruler: AttributeRuler):
        strings = ruler.vocab.strings

        def ids(values) -> tuple[int, ...]:
            return tuple(int(v) if isinstance(v, bool) else strings.add(v) for v in values)

        self.rest = AnchoredMatcher(ruler.vocab, validate=ruler.validate)
        # (looked-up attributes, refused attributes) -> looked-up values -> [(pattern number, refused values)]
        tables: dict[tuple[tuple[int, ...], tuple[int, ...]], dict[Any, list[tuple[int, tuple[frozenset[int], ...]]]]] = {}
        for number, entry in enumerate(ruler.patterns):
            for pattern in entry["patterns"]:
                tests = _token_tests(pattern)
                if tests is None:
                    self.rest.add(str(number), [pattern])
                    continue
                choices, refusals = tests
                keys, refused_keys = tuple(sorted(choices)), tuple(sorted(refusals))
                table = tables.setdefault((tuple(_EXACT[k] for k in keys), tuple(_EXACT[k] for k in refused_keys)), {})
                refused = tuple(frozenset(ids(refusals[k])) for k in refused_keys)
                for values in product(*(choices[key] for key in keys)):
                    looked_up = ids(values)
                    # one attribute is looked up by its value, several by the tuple of values
                    table.setdefault(looked_up if len(looked_up) > 1 else looked_up[0], []).append((number, refused))
        self.attrs = sorted({attr for groups in tables for group in groups for attr in group})
        column = {attr: i for i, attr in enumerate(self.attrs)}
        self.tables = [
            (itemgetter(*(column[a] for a in keys)), [column[a] for a in refused_keys], table)
            for (keys, refused_keys), table in tables.items()
        ]
        self.match_ids = [strings.add(str(number)) for number in range(len(ruler.patterns))]
        # Tokens repeat ("the" as DT det): each combination of values is looked up in the tables once.
        self.seen: BoundedMemo[tuple[int, ...], tuple[int, ...]] = BoundedMemo()

    def match(self, doc: Doc) -> list[tuple[int, int, int, int]]:
        strings = doc.vocab.strings
        matches = [(int(strings[key]), key, start, end) for key, start, end in self.rest(doc, allow_missing=True)]
        rows = doc.to_array(self.attrs).reshape(len(doc), len(self.attrs)).tolist() if self.attrs else []
        for i, row in enumerate(rows):
            numbers = self.seen.get(tuple(row), lambda: self._numbers(row))
            matches.extend((number, self.match_ids[number], i, i + 1) for number in numbers)
        matches.sort()
        return matches

    def _numbers(self, row: list[int]) -> tuple[int, ...]:
        """The numbers of the table patterns a token with these values matches."""
        return tuple(
            number
            for values_of, refused_columns, table in self.tables
            for number, refused in table.get(values_of(row), ())
            if all(row[c] not in values for c, values in zip(refused_columns, refused))
        )


def _token_tests(pattern: list[dict]) -> tuple[dict[str, list[str | bool]], dict[str, list[str]]] | None:
    """For a one-token pattern of exact values and IN / NOT_IN sets, with at least one exact value or IN
    set to look up, the values each key accepts and the values each key refuses; else None."""
    if len(pattern) != 1 or not pattern[0]:
        return None
    choices: dict[str, list[str | bool]] = {}
    refusals: dict[str, list[str]] = {}
    for key, value in pattern[0].items():
        if key not in _EXACT:
            return None
        if isinstance(value, (str, bool)):
            choices[key] = [value]
            continue
        test, listed = next(iter(value.items())) if isinstance(value, dict) and len(value) == 1 else (None, None)
        if not isinstance(listed, list) or not all(isinstance(v, str) for v in listed):
            return None
        if test == "IN":
            choices[key] = list(dict.fromkeys(listed))
        elif test == "NOT_IN":
            refusals[key] = listed
        else:
            return None
    return (choices, refusals) if choices else None


def indexed_copy(ruler: AttributeRuler) -> IndexedAttributeRuler:
    """An indexed attribute ruler with the same patterns as `ruler` (which is left as it is)."""
    indexed = IndexedAttributeRuler(ruler.vocab, ruler.name)
    indexed.add_patterns(ruler.patterns)
    return indexed
