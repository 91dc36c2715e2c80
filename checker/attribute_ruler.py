"""spaCy's attribute ruler with the same output, found by lookup instead of by trying every pattern.

The English pipelines' `attribute_ruler` maps each fine-grained tag (and some word+tag pairs) to its
part of speech and morphology with ~180 one-token patterns. spaCy's Matcher tries every pattern at
every token, which made it a tenth of the whole parse of a tweet. Most patterns only ask that a token's
TAG/LOWER/DEP/... be one of some values; those are looked up in a dict per token (a pattern with a set
of values becomes one entry per combination). The rest (NOT_IN, regexes, several tokens) still go
through a Matcher. Matches come back in the order spaCy's own `match` returns them, so
`set_annotations` applies them identically.
"""

from __future__ import annotations

from itertools import product
from operator import attrgetter
from typing import Any

from spacy.language import Language
from spacy.matcher import Matcher
from spacy.pipeline import AttributeRuler
from spacy.tokens import Doc

FACTORY = "postcheck_indexed_attribute_ruler"
# Pattern keys a dict lookup can answer exactly, and the Token attribute the Matcher compares for each.
_EXACT = {"ORTH": "text", "TEXT": "text", "LOWER": "lower_", "NORM": "norm_", "TAG": "tag_", "DEP": "dep_", "IS_SPACE": "is_space"}


class IndexedAttributeRuler(AttributeRuler):
    """An AttributeRuler whose `match` finds one-token exact patterns by lookup; everything else is spaCy's."""

    # (one (attrgetter, {token values: [pattern numbers]}) per combination of keys, Matcher for the rest)
    _index: tuple[list[tuple[attrgetter, dict[Any, list[int]]]], Matcher] | None = None

    def add(self, patterns: Any, attrs: dict, index: int = 0) -> None:
        super().add(patterns, attrs, index)
        self._index = None  # rebuilt on the next match, from every pattern added so far

    def clear(self) -> None:
        super().clear()
        self._index = None

    def match(self, doc: Doc) -> list[tuple[int, int, int, int]]:
        """The same (pattern number, match id, start, end) list as AttributeRuler.match, sorted alike."""
        if self._index is None:
            self._index = self._build_index()
        lookups, rest = self._index
        strings = self.vocab.strings
        matches = [(int(strings[key]), key, start, end) for key, start, end in rest(doc, allow_missing=True)]
        for values_of, table in lookups:
            for token in doc:
                for number in table.get(values_of(token), ()):
                    matches.append((number, strings[str(number)], token.i, token.i + 1))
        matches.sort()
        return matches

    def _build_index(self):
        tables: dict[tuple[str, ...], dict[Any, list[int]]] = {}
        rest = Matcher(self.vocab, validate=self.validate)
        for number, entry in enumerate(self.patterns):
            for pattern in entry["patterns"]:
                choices = _value_choices(pattern)
                if choices is None:
                    rest.add(str(number), [pattern])
                    continue
                keys = tuple(sorted(choices))
                table = tables.setdefault(keys, {})
                for values in product(*(choices[key] for key in keys)):
                    # attrgetter of one attribute returns the value itself, of several a tuple
                    table.setdefault(values if len(keys) > 1 else values[0], []).append(number)
        lookups = [(attrgetter(*(_EXACT[key] for key in keys)), table) for keys, table in tables.items()]
        return lookups, rest


def _value_choices(pattern: list[dict]) -> dict[str, list[str | bool]] | None:
    """For a one-token pattern of exact values or IN sets, the values each key accepts; else None."""
    if len(pattern) != 1 or not pattern[0]:
        return None
    choices: dict[str, list[str | bool]] = {}
    for key, value in pattern[0].items():
        if key not in _EXACT:
            return None
        if isinstance(value, (str, bool)):
            choices[key] = [value]
        elif isinstance(value, dict) and list(value) == ["IN"] and all(isinstance(v, str) for v in value["IN"]):
            choices[key] = list(dict.fromkeys(value["IN"]))
        else:
            return None
    return choices


@Language.factory(FACTORY, default_config={"validate": False})
def make_indexed_attribute_ruler(nlp: Language, name: str, validate: bool) -> IndexedAttributeRuler:
    return IndexedAttributeRuler(nlp.vocab, name, validate=validate)


def index_attribute_ruler(nlp: Language, name: str = "attribute_ruler") -> None:
    """Swap the pipeline's attribute ruler, in place and under the same name, for the indexed one."""
    if name not in nlp.pipe_names or not isinstance(nlp.get_pipe(name), AttributeRuler):
        return
    patterns = nlp.get_pipe(name).patterns
    nlp.replace_pipe(name, FACTORY).add_patterns(patterns)
