"""Ranking figures for the learned signals: AUC, the threshold that flags at most a given share of
clean examples, and a small threshold table (recall against clean flagged) to calibrate rules by."""

from __future__ import annotations

import numpy as np


def auc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    """Area under the ROC curve (ties count half), by ranks."""
    labels = np.asarray(labels, dtype=bool)
    scores = np.asarray(scores, dtype=np.float64)
    positives, negatives = int(labels.sum()), int((~labels).sum())
    if not positives or not negatives:
        return None
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    # average rank of each run of tied scores
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    ends = np.r_[starts[1:], len(scores)]
    for start, end in zip(starts, ends):
        ranks[order[start:end]] = (start + end + 1) / 2
    return round(float((ranks[labels].sum() - positives * (positives + 1) / 2) / (positives * negatives)), 4)


def threshold_at(clean_scores: np.ndarray, rate: float) -> float:
    """The lowest threshold t (score >= t flags) that flags at most `rate` of the clean scores."""
    ranked = np.sort(np.asarray(clean_scores, dtype=np.float64))[::-1]
    allowed = int(np.floor(rate * len(ranked)))
    if allowed >= len(ranked):
        return 0.0
    return round(float(np.nextafter(ranked[allowed], np.inf)), 6)


THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95)


def curve(scores, labels, clean_sentence, draft_max, post, clean_draft, thresholds=THRESHOLDS) -> list[dict]:
    """Per threshold: sentence recall, share of clean-draft sentences flagged, post recall (any
    sentence at or over it) and share of clean drafts flagged."""
    def share(values):
        return round(float(np.mean(values)), 4) if len(values) else None

    return [{
        "threshold": t,
        "sentence_recall": share(scores[labels] >= t),
        "clean_sentences_flagged": share(scores[clean_sentence] >= t),
        "post_recall": share(draft_max[post] >= t),
        "clean_drafts_flagged": share(draft_max[clean_draft] >= t),
    } for t in thresholds]
