"""Run the loaded spaCy pipeline with faster, identical components in place of two of spaCy's own.

The attribute ruler and the lemmatizer are swapped for the versions in this package at run time, here,
instead of in the Language object: the pipeline stays spaCy's own, so it saves and loads as spaCy's
(`nlp.to_disk`, `spacy.load`) and a trained component can be sourced into it.
"""

from __future__ import annotations

from typing import Callable, Iterable, Iterator

from spacy.language import Language
from spacy.pipeline import AttributeRuler, Lemmatizer
from spacy.tokens import Doc

from checker.fast.attribute_ruler import indexed_copy
from checker.fast.lemmatizer import MemoLemmatizer


class FastPipeline:
    """The pipeline's components in order, each swapped for its faster equivalent where one exists."""

    def __init__(self, nlp: Language):
        self.components: list[tuple[str, Callable[[Doc], Doc]]] = [
            (name, _faster(component)) for name, component in nlp.pipeline
        ]

    def __call__(self, doc: Doc) -> Doc:
        for _, component in self.components:
            doc = component(doc)
        return doc

    def pipe(self, docs: Iterable[Doc], batch_size: int) -> Iterator[Doc]:
        """As `nlp.pipe` on Docs already tokenized: each component batches the stream in turn."""
        stream: Iterable[Doc] = docs
        for _, component in self.components:
            pipe = getattr(component, "pipe", None)
            stream = pipe(stream, batch_size=batch_size) if pipe is not None else map(component, stream)
        return iter(stream)


def _faster(component):
    if isinstance(component, AttributeRuler):
        return indexed_copy(component)
    if isinstance(component, Lemmatizer):
        return MemoLemmatizer(component)
    return component
