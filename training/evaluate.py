"""What the learned signals add to today's rules, measured on the corpus validation split.

    python -m training.evaluate [--names] [--out figures.json]

For each draft the current Checker runs as shipped (the rules' own catches), then again with the
signals OR-ed in the way they are meant to be wired as facts:
- `encounter`: a sentence scoring at or over its threshold holds the `encounter` fact for every
  rule's context (as a rule that `sets: [encounter]` would set it);
- `venting`: a sentence at or over its threshold counts as a venting catch for the draft, and holds
  the `venting` fact for the rules that need it (a name in a venting sentence);
- `name` (optional): a name candidate (a match of any rule of a name type) whose name score is under
  its threshold is dropped.
The facts go in through the Checker's own DraftContext (set before any rule reads them) and the
name filter through its detectors, so the rules run exactly as shipped; this only measures, the
wiring itself belongs to the rules (thresholds in YAML). Never run on ../shared/eval.
"""

from __future__ import annotations

import argparse
import json
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

import checker.pipeline as pipeline_module
from checker.context import DraftContext
from checker.signals import MODELS_DIR, Signals
from checker.syntax import bounded_sentences
from training.train import CORPUS, MANIFEST_FILE, NAME_TYPES, read_jsonl, sentence_labels

CATEGORIES = ("identifier", "timeline", "venting")
# The facts rules/context.yaml declares for the two sentence signals.
ENCOUNTER_FACT, VENTING_FACT = "encounter", "venting"


@dataclass
class Draft:
    record: dict
    doc: object
    bounds: list
    scores: object
    encounter_labels: list
    venting_labels: list
    targets: list


_PLAN: dict[str, set[int]] = {}


class _SignalledContext(DraftContext):
    """The Checker's own DraftContext with the signals' sentences set as facts before any rule reads
    them, as a source declared in the rules would set them."""

    def __post_init__(self) -> None:
        super().__post_init__()
        for fact, sentences in _PLAN.items():
            for sentence in sentences:
                self.set_fact(fact, sentence)


@contextmanager
def _wired(checker, signals, draft: Draft, t_encounter, t_venting, t_name):
    """Run the real Checker with the signals OR-ed in: facts through its DraftContext, the name score
    as a filter on name candidates through its detectors, the draft's parse reused."""
    _PLAN.clear()
    if t_encounter is not None:
        _PLAN[ENCOUNTER_FACT] = {i for i, s in enumerate(draft.scores.encounter) if s >= t_encounter}
    if t_venting is not None:
        _PLAN[VENTING_FACT] = {i for i, s in enumerate(draft.scores.venting) if s >= t_venting}
    detectors = checker.detectors
    if t_name is not None:
        def filtered(detector):
            def detect(doc, ctx):
                found = detector(doc, ctx)
                spans = [(c.token_start, c.token_end) for c in found if c.rule.type in NAME_TYPES]
                scores = dict(zip(spans, signals.name_scores(doc, spans, ctx.sentence_bounds)))
                return [c for c in found if c.rule.type not in NAME_TYPES or scores[(c.token_start, c.token_end)] >= t_name]
            return detect
        checker.detectors = [filtered(d) for d in detectors]
    original = pipeline_module.DraftContext
    pipeline_module.DraftContext = _SignalledContext
    checker.parse = lambda text: draft.doc
    try:
        yield
    finally:
        pipeline_module.DraftContext = original
        checker.detectors = detectors
        del checker.parse
        _PLAN.clear()


def flagged_categories(checker, signals, draft: Draft, t_encounter=None, t_venting=None, t_name=None,
                       soft_gate_identifier=None) -> set[str]:
    """Categories with a warning or error (the verdict is not ok iff there is one), with the signals
    OR-ed in. `t_name` drops name candidates (any rule of a name type) scoring under it;
    `soft_gate_identifier` drops the identifier warnings (not the errors: names, initials) of a draft
    whose `identifiable` is under it."""
    with _wired(checker, signals, draft, t_encounter, t_venting, t_name):
        findings = checker.check(draft.record["text"]).findings
    if soft_gate_identifier is not None and signals.identifiable(draft.doc) < soft_gate_identifier:
        findings = [f for f in findings if not (f.category == "identifier" and f.severity == "warning")]
    flagged = {f.category for f in findings if f.severity != "info"}
    if _vents(draft, t_venting):
        flagged.add("venting")
    return flagged


def _vents(draft: Draft, t_venting) -> bool:
    return t_venting is not None and any(s >= t_venting for s in draft.scores.venting)


def post_figures(checker, signals, drafts: Sequence[Draft], gate_identifier=None, gate_timeline=None, **thresholds) -> dict:
    """Post recall per category and clean drafts flagged. `gate_identifier` drops the identifier
    flags of a draft whose `identifiable` score is under it; `gate_timeline` drops the timeline flags
    of a draft with no sentence of encounter score at or over it."""
    results = []
    for draft in drafts:
        flagged = flagged_categories(checker, signals, draft, **thresholds)
        if gate_identifier is not None and signals.identifiable(draft.doc) < gate_identifier:
            flagged.discard("identifier")
        if gate_timeline is not None and max(draft.scores.encounter, default=0.0) < gate_timeline:
            flagged.discard("timeline")
        results.append(flagged)
    clean = [not d.record["categories"] for d in drafts]
    out = {"clean_flagged": round(float(np.mean([bool(r) for r, c in zip(results, clean) if c])), 3)}
    for category in CATEGORIES:
        labelled = [category in r for r, d in zip(results, drafts) if category in d.record["categories"]]
        out[f"{category}_post_recall"] = round(float(np.mean(labelled)), 3)
    return out


def load(checker, signals, records) -> list[Draft]:
    drafts = []
    for record in records:
        doc = checker.parse(record["text"])
        bounds = bounded_sentences(doc)
        enc, vent, tgt = sentence_labels(doc, bounds, record["passages"])
        drafts.append(Draft(record, doc, bounds, signals.score(doc, bounds), enc, vent, tgt))
    return drafts


def sentence_text(draft: Draft, index: int) -> str:
    start, end = draft.bounds[index]
    doc = draft.doc
    return doc.text[doc[start].idx:doc[end - 1].idx + len(doc[end - 1].text)].replace("\n", " ")


def extremes(drafts: Sequence[Draft], signal: str, n: int = 10) -> tuple[list, list]:
    """The n lowest-scoring labelled sentences and the n highest-scoring sentences of clean drafts."""
    positives, negatives = [], []
    for draft in drafts:
        labels = draft.encounter_labels if signal == "encounter" else draft.venting_labels
        for i, score in enumerate(getattr(draft.scores, signal)):
            row = (score, draft.record["id"], sentence_text(draft, i), draft.targets[i] if signal == "venting" else None)
            if labels[i]:
                positives.append(row)
            elif not draft.record["categories"]:
                negatives.append(row + (draft.record.get("negative"),))
    return sorted(positives)[:n], sorted(negatives, reverse=True)[:n]


def main(argv: Sequence[str] | None = None) -> int:
    from checker.pipeline import Checker

    parser = argparse.ArgumentParser(prog="python -m training.evaluate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=None, help="also write the figures as JSON here")
    parser.add_argument("--names", action="store_true", help="also measure the name filter")
    args = parser.parse_args(argv)
    manifest = json.loads((MODELS_DIR / MANIFEST_FILE).read_text(encoding="utf-8"))["validation"]
    checker, signals = Checker(use_user_config=False), Signals.load()
    drafts = load(checker, signals, read_jsonl(CORPUS / "validation.jsonl"))
    t_enc = manifest["encounter"]["threshold_5pct_clean_sentences"]
    t_vent = manifest["venting"]["threshold_5pct_clean_sentences"]
    rows = {"rules": post_figures(checker, signals, drafts)}
    for t in sorted({t_vent, 0.5, 0.6, 0.7, 0.8, 0.9}):
        rows[f"rules + venting>={t:.3g}"] = post_figures(checker, signals, drafts, t_venting=t)
    for t in sorted({t_enc, 0.5, 0.6, 0.7, 0.8, 0.9}):
        rows[f"rules + encounter>={t:.3g}"] = post_figures(checker, signals, drafts, t_encounter=t)
    rows["rules + both at 5% clean sentences"] = post_figures(checker, signals, drafts, t_encounter=t_enc, t_venting=t_vent)
    for gate in (0.2, 0.3):
        rows[f"rules, gates {gate}/0.5"] = post_figures(checker, signals, drafts, gate_identifier=gate, gate_timeline=0.5)
    for te, tv in ((0.7, 0.8), (0.8, 0.85), (0.9, 0.9)):
        rows[f"rules + enc>={te}, vent>={tv}"] = post_figures(checker, signals, drafts, t_encounter=te, t_venting=tv)
        for gate in (0.2, 0.3):
            rows[f"rules + enc>={te}, vent>={tv}, gates {gate}/0.5"] = post_figures(
                checker, signals, drafts, t_encounter=te, t_venting=tv, gate_identifier=gate, gate_timeline=0.5)
            rows[f"rules + enc>={te}, vent>={tv}, soft gates {gate}/0.5"] = post_figures(
                checker, signals, drafts, t_encounter=te, t_venting=tv, soft_gate_identifier=gate, gate_timeline=0.5)
    if args.names:
        for t in (0.2, 0.3, 0.5):
            rows[f"rules + name>={t}"] = post_figures(checker, signals, drafts, t_name=t)
    print(f"{'system':<48} {'clean':>6} {'ident':>6} {'time':>6} {'vent':>6}")
    for name, row in rows.items():
        print(f"{name:<48} {row['clean_flagged']:>6.3f} {row['identifier_post_recall']:>6.3f} "
              f"{row['timeline_post_recall']:>6.3f} {row['venting_post_recall']:>6.3f}")
    report = {"post": rows}
    for signal in ("encounter", "venting"):
        misses, false_flags = extremes(drafts, signal)
        report[f"{signal}_worst_misses"] = misses
        report[f"{signal}_worst_false_flags"] = false_flags
        print(f"\n{signal}: worst misses")
        for row in misses:
            print(f"  {row[0]:.3f} {row[1]} [{row[3] or ''}] {row[2][:160]}")
        print(f"{signal}: worst false flags (clean drafts)")
        for row in false_flags:
            print(f"  {row[0]:.3f} {row[1]} ({row[4]}) {row[2][:160]}")
    if args.out:
        args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
