"""The components postcheck runs in place of spaCy's own (the indexed attribute ruler and the memo
lemmatizer) must annotate every token exactly as spaCy's do; and the pipeline itself stays spaCy's, so
it saves and loads."""

from __future__ import annotations

import random

import pytest
import spacy
from spacy.training import Example

from checker.fast.attribute_ruler import IndexedAttributeRuler
from checker.fast.lemmatizer import MemoLemmatizer
from checker.fast.memo import BoundedMemo
from checker.fast.pipeline import FastPipeline
from checker.model import load_pipeline, resolve_model_name

# Written for this test: contractions, slang the English rules special-case, auxiliaries, expletives,
# pronouns as objects, odd whitespace, numbers, clinical shorthand and a bit of everything else.
PIECES = (
    "I ain't gonna lie, y'all, it's nothin' we can't fix.",
    "Let's go, c'mon, we gotta finish rounds before noon.",
    "He doesn't know; she does. There is a cat and there's two dogs.",
    "Give it to me, then give it to you, and I'll hand it back.",
    "Whether or not it rains, tho, we meet til 5pm unless the pager goes off.",
    "The 84yo was admitted on 3/14 with CHF, NPO after midnight, K+ 5.9.",
    "Had a great day!!  Really   great.\n\nNew paragraph\there.",
    "What a shift. Which patient? That one, this one, those two.",
    "They have been waiting; we had done it; you've seen it; I'd have gone.",
    "Dr. Ama Mensah-Boateng presented at Grand Rounds in St. Louis on Friday.",
    "   ",
    "Call 555-201-7788 or email ward.team@example.org :)",
    # one word, several lemmas by part of speech and form: "saw"/"see", "leaves"/"leaf", "better"/"well"
    "I saw the saw. She leaves; the leaves fell. He feels better, she's better, they are best at meetings.",
)


def mixed_texts(count: int, seed: int = 3) -> list[str]:
    rng = random.Random(seed)
    return list(PIECES) + [" ".join(rng.choices(PIECES, k=rng.randint(2, 8))) for _ in range(count)]


def annotations(doc):
    return [(t.text, t.tag_, t.pos_, str(t.morph), t.lemma_, t.dep_, t.head.i) for t in doc]


class Fast:
    """A FastPipeline used like a Language: called on text, piped, components by name."""

    def __init__(self, nlp):
        self.nlp, self.pipeline = nlp, FastPipeline(nlp)

    def __call__(self, text):
        return self.pipeline(self.nlp.make_doc(text))

    def pipe(self, texts, batch_size):
        return self.pipeline.pipe((self.nlp.make_doc(t) for t in texts), batch_size=batch_size)

    def get_pipe(self, name):
        return dict(self.pipeline.components)[name]


@pytest.fixture(scope="module")
def pipelines():
    return spacy.load(resolve_model_name()), Fast(load_pipeline())


def test_the_checker_runs_the_fast_components_and_leaves_the_pipeline_spacys(pipelines):
    stock, indexed = pipelines
    assert isinstance(indexed.get_pipe("attribute_ruler"), IndexedAttributeRuler)
    assert isinstance(indexed.get_pipe("lemmatizer"), MemoLemmatizer)
    assert [name for name, _ in indexed.pipeline.components] == stock.pipe_names
    assert [type(c) for _, c in indexed.nlp.pipeline] == [type(c) for _, c in stock.pipeline]


def test_the_pipeline_saves_and_loads_and_a_trained_component_can_join_it(pipelines, tmp_path):
    """`nlp.to_disk` then `spacy.load` raised in 0.1, when the swaps were written into the pipeline."""
    _, indexed = pipelines
    indexed.nlp.to_disk(tmp_path / "model")
    reloaded = spacy.load(tmp_path / "model")
    text = mixed_texts(0)[5]
    assert annotations(reloaded(text)) == annotations(indexed(text))
    textcat = reloaded.add_pipe("textcat_multilabel", last=True)
    examples = [Example.from_dict(reloaded.make_doc(t), {"cats": {"encounter": float(i % 2)}}) for i, t in enumerate(PIECES)]
    textcat.initialize(lambda: examples, nlp=reloaded)
    assert "encounter" in FastPipeline(reloaded)(reloaded.make_doc(text)).cats


def test_same_annotations_as_spacys_ruler(pipelines):
    stock, indexed = pipelines
    texts = mixed_texts(150)
    for text in texts:
        assert annotations(indexed(text)) == annotations(stock(text)), f"text #{texts.index(text)}"
    batched = zip(stock.pipe(texts, batch_size=16), indexed.pipe(texts, batch_size=16))
    assert all(annotations(a) == annotations(b) for a, b in batched)


def test_same_matches_in_the_same_order(pipelines):
    stock, indexed = pipelines
    ours, theirs = indexed.get_pipe("attribute_ruler"), stock.get_pipe("attribute_ruler")
    for text in mixed_texts(40, seed=9):
        doc = stock.make_doc(text)
        for name, component in stock.pipeline:
            if name == "attribute_ruler":
                break
            doc = component(doc)
        assert ours.match(doc) == theirs.match(doc)


def test_remembered_token_values_stay_bounded_and_change_nothing(pipelines, monkeypatch):
    stock, indexed = pipelines
    ruler = indexed.get_pipe("attribute_ruler")
    indexed("warm up")
    monkeypatch.setattr(ruler._index, "seen", BoundedMemo(limit=25))
    for text in mixed_texts(30, seed=11):
        assert annotations(indexed(text)) == annotations(stock(text))
        assert len(ruler._index.seen) <= 25


def test_remembered_lemmas_stay_bounded_and_change_nothing(pipelines, monkeypatch):
    stock, indexed = pipelines
    lemmatizer = indexed.get_pipe("lemmatizer")
    monkeypatch.setattr(lemmatizer, "seen", BoundedMemo(limit=25))
    for text in mixed_texts(30, seed=12):
        assert annotations(indexed(text)) == annotations(stock(text))
        assert len(lemmatizer.seen) <= 25
