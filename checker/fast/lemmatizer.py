"""spaCy's lemmatizer with the same output, computed once per kind of token instead of once per token.

spaCy's rule lemmatizer sets each token's lemma from a Python call per token, and its lemma depends only
on the word, its part of speech and its morphology (spaCy caches rule lemmas under that same key). This
component reads those values for the whole Doc with one `to_array`, asks the pipeline's own lemmatizer
only about combinations it has not seen, and writes every lemma back with one `from_array`. Tokens that
already have a lemma (the attribute ruler sets a few) keep it, as spaCy's does without `overwrite`.
"""

from __future__ import annotations

from typing import Iterable, Iterator

from spacy.attrs import LEMMA, MORPH, ORTH, POS
from spacy.pipeline import Lemmatizer
from spacy.tokens import Doc

from checker.fast.memo import BoundedMemo

class MemoLemmatizer:
    """Sets the lemmas the wrapped lemmatizer would set, asking it once per (word, POS, morphology)."""

    def __init__(self, lemmatizer: Lemmatizer):
        self.name = lemmatizer.name
        self.lemmatizer = lemmatizer
        self.seen: BoundedMemo[tuple[int, int, int], int] = BoundedMemo()  # (word, POS, morphology) -> lemma

    def __call__(self, doc: Doc) -> Doc:
        lemmatizer = self.lemmatizer
        strings = doc.vocab.strings
        values = doc.to_array([ORTH, POS, MORPH, LEMMA])
        lemmas = values[:, 3:4].copy()
        for i, (orth, pos, morph, lemma) in enumerate(values.tolist()):
            if lemma and not lemmatizer.overwrite:
                continue
            lemmas[i, 0] = self.seen.get((orth, pos, morph), lambda: strings.add(lemmatizer.lemmatize(doc[i])[0]))
        doc.from_array([LEMMA], lemmas)
        return doc

    def pipe(self, docs: Iterable[Doc], batch_size: int = 128) -> Iterator[Doc]:
        return map(self, docs)
