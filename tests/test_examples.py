"""The example corpus in examples/: well-formed, with clean drafts too, and `postcheck eval` runs on it
in a fresh clone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from checker.cli import main
from checker.evaluation import CATEGORIES, load_corpus

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_the_example_corpus_is_labelled_consistently():
    rows = [json.loads(line) for line in (EXAMPLES / "drafts.jsonl").read_text(encoding="utf-8").splitlines()]
    drafts = load_corpus(EXAMPLES / "drafts.jsonl")
    assert len(drafts) == len(rows) >= 20
    assert len({d.id for d in drafts}) == len(drafts)
    clean = [d for d in drafts if not d.categories]
    assert len(clean) >= 5
    for row, draft in zip(rows, drafts):
        for span in row["spans"]:
            assert draft.text[span["start"]:span["end"]] == span["text"]
            assert span["category"] in CATEGORIES
        assert draft.categories == {s[2] for s in draft.spans}
    assert {c for d in drafts for c in d.categories} == set(CATEGORIES)


def test_eval_runs_on_the_example_corpus(capsys):
    with pytest.raises(SystemExit) as done:
        main(["eval", str(EXAMPLES / "drafts.jsonl"), "--format", "json"])
    assert done.value.code == 0
    scores = json.loads(capsys.readouterr().out)["postcheck"]
    assert scores["drafts"] == 21 and scores["clean"] == 6
    assert all(scores["categories"][name]["post_recall"] is not None for name in CATEGORIES)
