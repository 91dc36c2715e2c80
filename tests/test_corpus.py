"""The training corpus: offsets, ids, the split, the mix the corpus issue asks for, and independence from
the validation drafts in ../shared/eval."""

from __future__ import annotations

import collections
import json
from pathlib import Path

import pytest

from training.corpus import CORPUS, REGISTERS, built_files, figures, near_duplicates, read_sources, shingles, split
from training.markup import NAMING_TYPES

EVAL = Path(__file__).resolve().parents[1].parent / "shared" / "eval"


@pytest.fixture(scope="module")
def drafts():
    return read_sources()


def test_the_built_files_are_what_the_sources_build(drafts):
    for path, content in built_files(drafts).items():
        assert path.read_text(encoding="utf-8") == content, f"{path.name} is stale: run python -m training.corpus build"


def test_every_span_and_passage_points_at_its_text(drafts):
    for draft in drafts:
        record, text = draft.record, draft.text
        assert record["categories"] == sorted({s["category"] for s in record["spans"]})
        for span in record["spans"]:
            assert text[span["start"]:span["end"]] == span["text"] and span["text"].strip() == span["text"], draft.id
        for passage in record["passages"]:
            assert 0 <= passage["start"] < passage["end"] <= len(text), draft.id
            assert (passage["label"] == "venting") == ("target" in passage), draft.id


def test_ids_are_unique(drafts):
    counts = collections.Counter(d.id for d in drafts)
    assert [i for i, n in counts.items() if n > 1] == []


def test_the_split_holds_out_whole_writers(drafts):
    train, validation = split(drafts)
    assert {d.record["writer"] for d in train}.isdisjoint(d.record["writer"] for d in validation)
    assert 0.12 <= len(validation) / len(drafts) <= 0.2


@pytest.mark.skipif(not EVAL.is_dir(), reason="../shared/eval is not on this machine")
def test_no_draft_shares_an_eight_word_sequence_with_the_validation_drafts(drafts):
    held = set()
    for path in EVAL.glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                held |= shingles(json.loads(line)["text"])
    shared = [d.id for d in drafts if shingles(d.text) & held]
    assert shared == []


def test_near_duplicates_are_at_most_two_percent(drafts):
    pairs = near_duplicates(drafts)
    involved = {draft_id for a, b, _ in pairs for draft_id in (a, b)}
    assert len(involved) <= 0.02 * len(drafts)


def test_the_mix_meets_the_minimums(drafts):
    counts = figures(drafts)
    assert counts["drafts"] >= 3000
    assert counts["identifier"] >= 1000 and counts["identifier_nameless"] >= 0.4 * counts["identifier"]
    assert counts["timeline"] >= 800
    assert counts["venting"] >= 1000
    assert counts["clean"] >= 1200
    assert sum(counts["registers"].get(name, 0) >= 150 for name in REGISTERS) >= 10
    assert counts["specialties"] >= 15
    assert len(counts["authors"]) >= 6


def test_nameless_means_no_naming_span(drafts):
    nameless = [d for d in drafts if "identifier" in d.record["categories"]
                and not any(s["type"] in NAMING_TYPES for s in d.record["spans"])]
    assert len(nameless) == figures(drafts)["identifier_nameless"]

