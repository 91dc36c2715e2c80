"""The components postcheck swaps into the pipeline (the indexed attribute ruler and the memo lemmatizer)
must annotate every token exactly as spaCy's own components do."""

from __future__ import annotations

import random

import pytest
import spacy

from checker.attribute_ruler import IndexedAttributeRuler
from checker.lemmatizer import MemoLemmatizer
from checker.memo import BoundedMemo
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


@pytest.fixture(scope="module")
def pipelines():
    return spacy.load(resolve_model_name()), load_pipeline()


def test_the_loaded_pipeline_uses_the_fast_components(pipelines):
    stock, indexed = pipelines
    assert isinstance(indexed.get_pipe("attribute_ruler"), IndexedAttributeRuler)
    assert isinstance(indexed.get_pipe("lemmatizer"), MemoLemmatizer)
    assert indexed.pipe_names == stock.pipe_names


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
