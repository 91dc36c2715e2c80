"""The blind audit: a second labeller relabels a random tenth of the corpus; agreement is Cohen's kappa.

    python -m training.audit check    # the auditor's labels parse and strip back to the blind texts
    python -m training.audit report   # kappa per category and per passage label -> corpus/AUDIT.md

Agreement is measured three ways, each a two-by-two table per label:
- post: does the draft have this category at all (what the checker's post recall is scored on);
- word: is each word inside a span of this category (how far the two agree on where);
- sentence: does each sentence overlap a passage of this label (what sentence classifiers learn from).
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import yaml

from training.corpus import CORPUS, read_sources
from training.markup import MarkupError, Parsed, parse

AUDIT = CORPUS / "audit"
BLIND = AUDIT / "blind.yaml"
LABELS = AUDIT / "labels.yaml"
REPORT = CORPUS / "AUDIT.md"
CATEGORIES = ("identifier", "timeline", "venting")
PASSAGE_LABELS = ("encounter", "venting")
_WORD = re.compile(r"\S+")
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")


@dataclass(frozen=True)
class Pair:
    """One audited draft: the writer's labels and the auditor's, over the same text."""

    id: str
    writer: Parsed
    auditor: Parsed


def kappa(pairs: Iterable[tuple[bool, bool]]) -> tuple[float | None, int, float]:
    """Cohen's kappa of two yes/no labellings, the number of items, and the raw agreement."""
    items = list(pairs)
    if not items:
        return None, 0, 0.0
    n = len(items)
    observed = sum(a == b for a, b in items) / n
    p_a, p_b = sum(a for a, _ in items) / n, sum(b for _, b in items) / n
    expected = p_a * p_b + (1 - p_a) * (1 - p_b)
    return (None if expected == 1 else (observed - expected) / (1 - expected)), n, observed


def read_pairs() -> list[Pair]:
    blind = {entry["id"]: entry["text"] for entry in yaml.safe_load(BLIND.read_text(encoding="utf-8"))}
    labelled = {entry["id"]: entry["text"] for entry in yaml.safe_load(LABELS.read_text(encoding="utf-8")) or []}
    writers = {draft.id: draft for draft in read_sources()}
    pairs = []
    for draft_id, text in sorted(labelled.items()):
        auditor = parse(text.strip())
        if auditor.text != blind[draft_id].strip():
            raise ValueError(f"{draft_id}: the labelled text does not strip back to the blind text")
        record = writers[draft_id].record
        writer = parse_record(record)
        pairs.append(Pair(draft_id, writer, auditor))
    return pairs


def parse_record(record: dict) -> Parsed:
    """A built draft's labels in the same shape the markup parser gives."""
    from training.markup import Passage, Span

    spans = tuple(Span(s["start"], s["end"], s["text"], s["category"], s["type"]) for s in record["spans"])
    passages = tuple(Passage(p["start"], p["end"], p["label"], p.get("target")) for p in record["passages"])
    return Parsed(record["text"], spans, passages)


def _covered(ranges: Iterable[tuple[int, int]], start: int, end: int) -> bool:
    return any(a < end and start < b for a, b in ranges)


def agreement(pairs: list[Pair]) -> list[tuple[str, str, tuple[float | None, int, float]]]:
    rows = []
    for category in CATEGORIES:
        def has(parsed: Parsed) -> bool:
            return any(s.category == category for s in parsed.spans)
        rows.append(("post", category, kappa((has(p.writer), has(p.auditor)) for p in pairs)))
    for category in CATEGORIES:
        rows.append(("word", category, kappa(_units(pairs, _WORD, lambda parsed: [
            (s.start, s.end) for s in parsed.spans if s.category == category]))))
    for label in PASSAGE_LABELS:
        rows.append(("sentence", label, kappa(_units(pairs, _SENTENCE, lambda parsed: [
            (p.start, p.end) for p in parsed.passages if p.label == label]))))
    return rows


def _units(pairs: list[Pair], unit: re.Pattern[str], ranges: Callable[[Parsed], list[tuple[int, int]]]):
    for pair in pairs:
        ours, theirs = ranges(pair.writer), ranges(pair.auditor)
        for match in unit.finditer(pair.writer.text):
            if match.group().strip():
                yield _covered(ours, *match.span()), _covered(theirs, *match.span())


def target_agreement(pairs: list[Pair]) -> tuple[int, int]:
    """Sentences both put in a venting passage: how many got the same target from both."""
    same = total = 0
    for pair in pairs:
        for match in _SENTENCE.finditer(pair.writer.text):
            ours = {p.target for p in pair.writer.passages if p.label == "venting" and _covered([(p.start, p.end)], *match.span())}
            theirs = {p.target for p in pair.auditor.passages if p.label == "venting" and _covered([(p.start, p.end)], *match.span())}
            if ours and theirs:
                total += 1
                same += bool(ours & theirs)
    return same, total


def report(pairs: list[Pair]) -> str:
    lines = ["# Blind audit: agreement between the writers and the auditor", "",
             f"Written by `python -m training.audit report` from {len(pairs)} drafts (a seeded random tenth of the corpus).", "",
             "| unit | label | Cohen's kappa | items | raw agreement |", "|---|---|---|---|---|"]
    for unit, label, (value, n, observed) in agreement(pairs):
        shown = "-" if value is None else f"{value:.2f}"
        lines.append(f"| {unit} | {label} | {shown} | {n} | {observed:.2f} |")
    same, total = target_agreement(pairs)
    lines += ["", f"Venting target: the same target on {same} of {total} sentences both labelled venting."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.audit", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["check", "report"])
    args = parser.parse_args(argv)
    try:
        pairs = read_pairs()
    except (MarkupError, ValueError, KeyError, OSError, yaml.YAMLError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    blind = yaml.safe_load(BLIND.read_text(encoding="utf-8"))
    if args.command == "check":
        clean = sum(not pair.auditor.spans for pair in pairs)
        print(f"{len(pairs)} of {len(blind)} drafts labelled, {clean} clean; markup valid, texts match")
        return 0
    REPORT.write_text(report(pairs), encoding="utf-8")
    print(REPORT.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
