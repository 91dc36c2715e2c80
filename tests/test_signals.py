"""The learned signals: shipped weights load and score deterministically, bad weights fail clearly,
training runs end to end on a tiny slice, and the shipped manifest matches corpus/."""

from __future__ import annotations

import json

import numpy as np
import pytest

from checker.syntax import bounded_sentences
from checker.errors import ModelError
from checker.signals import MODELS_DIR, TARGETS, WEIGHTS_FILE, SentenceScores, Signals
from training import linear
from training.train import CORPUS, MANIFEST_FILE, Options, corpus_hash, read_jsonl, train, write


@pytest.fixture(scope="module")
def signals() -> Signals:
    return Signals.load()


DRAFT = (
    "Guy in trauma 2 tonight wrapped his bike around a pole, natural selection at work. "
    "Nothing says teamwork like a GI fellow declining a scope over the phone without looking at the labs. "
    "Huge thanks to the night nurses for a smooth shift."
)


def test_scores_cover_every_sentence_and_are_probabilities(checker, signals):
    doc = checker.parse(DRAFT)
    bounds = bounded_sentences(doc)
    scores = signals.score(doc, bounds)
    assert isinstance(scores, SentenceScores) and len(scores) == len(bounds) == 3
    for values in (scores.encounter, scores.venting, scores.target_score):
        assert all(isinstance(v, float) and 0.0 <= v <= 1.0 for v in values)
    assert set(scores.target) <= set(TARGETS)


def test_scores_are_a_pure_function_of_the_parse(checker, signals):
    first = signals.score(checker.parse(DRAFT), bounded_sentences(checker.parse(DRAFT)))
    doc = checker.parse(DRAFT)
    assert signals.score(doc, bounded_sentences(doc)) == first
    assert Signals.load().score(doc, bounded_sentences(doc)) == first


def test_batched_parse_scores_as_the_single_one(checker, signals):
    texts = [DRAFT, "My dad turns 80 tomorrow and just beat prostate cancer.", "Prior auth delays care."]
    batched = list(checker.nlp.pipe([checker.tokenizer(t) for t in texts]))
    for text, doc in zip(texts, batched):
        single = checker.parse(text)
        a, b = signals.score(doc, bounded_sentences(doc)), signals.score(single, bounded_sentences(single))
        assert a.target == b.target
        np.testing.assert_allclose(a.encounter + a.venting, b.encounter + b.venting, atol=1e-5)


def test_the_signals_separate_the_guide_s_examples(checker, signals):
    doc = checker.parse(DRAFT)
    scores = signals.score(doc, bounded_sentences(doc))
    encounter, sarcasm, thanks = range(3)
    assert scores.encounter[encounter] > scores.encounter[thanks]
    assert scores.venting[sarcasm] > scores.venting[thanks]
    assert scores.target[sarcasm] == "colleague"


def test_emoji_alone_do_not_make_venting(checker, signals):
    def venting(text):
        doc = checker.parse(text)
        return max(signals.score(doc, bounded_sentences(doc)).venting)

    sarcasm = "Radiology read it as 'clinical correlation recommended'. Thanks, very helpful."
    assert venting("Rounds started at 7 today 🙄") < 0.3
    assert venting(sarcasm) > 0.7
    assert abs(venting(sarcasm + " 🙄") - venting(sarcasm)) < 0.1


def test_name_scores_take_spans_or_token_offsets(checker, signals):
    doc = checker.parse("Admitted Gregory Haverford overnight with a GI bleed. Thanks Dr. Nadia Quist for the consult.")
    people = [ent for ent in doc.ents if ent.label_ == "PERSON"]
    assert people
    by_span = signals.name_scores(doc, people)
    assert by_span == signals.name_scores(doc, [(ent.start, ent.end) for ent in people])
    assert all(0.0 <= s <= 1.0 for s in by_span)
    assert signals.name_scores(doc, []) == []
    with pytest.raises(ValueError):
        signals.name_scores(doc, [(0, len(doc) + 1)])


def test_an_empty_bounds_list_scores_nothing(checker, signals):
    assert len(signals.score(checker.parse("ok"), [])) == 0


def test_missing_weights_are_a_model_error(tmp_path):
    with pytest.raises(ModelError, match="missing"):
        Signals.load(tmp_path / WEIGHTS_FILE)


@pytest.mark.parametrize("content", [b"", b"not a zip file", b"PK\x03\x04broken"])
def test_corrupt_weights_are_a_model_error(tmp_path, content):
    path = tmp_path / WEIGHTS_FILE
    path.write_bytes(content)
    with pytest.raises(ModelError, match="unreadable"):
        Signals.load(path)


def _rewritten(tmp_path, change):
    with np.load(MODELS_DIR / WEIGHTS_FILE, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    change(arrays)
    path = tmp_path / WEIGHTS_FILE
    np.savez(path, **arrays)
    return path


def test_weights_missing_an_array_are_a_model_error(tmp_path):
    with pytest.raises(ModelError, match="lack"):
        Signals.load(_rewritten(tmp_path, lambda a: a.pop("venting_sparse")))


def test_weights_of_the_wrong_shape_are_a_model_error(tmp_path):
    def shrink(arrays):
        arrays["idf"] = arrays["idf"][:10]
    with pytest.raises(ModelError, match="shape"):
        Signals.load(_rewritten(tmp_path, shrink))


def test_weights_of_another_format_are_a_model_error(tmp_path):
    def bump(arrays):
        meta = json.loads(bytes(arrays["meta"]).decode())
        meta["format"] = 99
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    with pytest.raises(ModelError, match="format"):
        Signals.load(_rewritten(tmp_path, bump))


def test_pickled_arrays_are_refused(tmp_path):
    def objects(arrays):
        arrays["idf"] = np.array([{"a": 1}], dtype=object)
    with pytest.raises(ModelError):
        Signals.load(_rewritten(tmp_path, objects))


def test_training_on_a_tiny_slice_writes_loadable_weights(checker, tmp_path):
    records = read_jsonl(CORPUS / "train.jsonl")
    # a slice with every venting target, so the multinomial model sees each class
    chosen, seen = [], set()
    for record in records:
        targets = {p.get("target") for p in record["passages"] if p["label"] == "venting"}
        if len(chosen) < 30 or targets - seen:
            chosen.append(record)
            seen |= targets
    arrays, figures = train(chosen, read_jsonl(CORPUS / "validation.jsonl")[:30], Options(iterations=15),
                            checker=checker, log=lambda line: None)
    write(tmp_path, arrays, {"validation": figures})
    loaded = Signals.load(tmp_path / WEIGHTS_FILE)
    doc = checker.parse(DRAFT)
    assert len(loaded.score(doc, bounded_sentences(doc))) == 3
    assert figures["encounter"]["auc"] is not None and figures["venting"]["curve"]
    assert 0.0 <= loaded.identifiable(doc) <= 1.0


def test_fitting_is_deterministic_and_learns():
    rng = np.random.default_rng(0)
    dense = rng.normal(size=(200, 5))
    labels = (dense[:, 0] + 0.1 * rng.normal(size=200) > 0).astype(int)
    hashed = [linear.Hashed(np.array([i % 7, 7 + labels[i] * (i % 2)]), np.array([1.0, 1.0], dtype=np.float32))
              for i in range(200)]
    rows = linear.SparseRows.of(hashed, 9)
    first, second = linear.fit(rows, dense, labels), linear.fit(rows, dense, labels)
    assert np.array_equal(first.sparse, second.sparse) and np.array_equal(first.dense, second.dense)
    z = rows.dot(first.sparse) + dense @ first.dense + first.bias
    assert ((z > 0) == labels).mean() > 0.95
    multi = linear.fit(rows, dense, np.clip(labels + (dense[:, 1] > 1), 0, 2), n_classes=3)
    assert multi.sparse.shape == (9, 3) and multi.bias.shape == (3,)


def test_the_shipped_manifest_was_trained_on_this_corpus():
    manifest = json.loads((MODELS_DIR / MANIFEST_FILE).read_text(encoding="utf-8"))
    assert manifest["corpus_sha256"] == corpus_hash(), "corpus/ changed: run python -m training.train"
    assert {"encounter", "venting", "name"} <= set(manifest["validation"])
