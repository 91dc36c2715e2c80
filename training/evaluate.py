"""What the learned signals add to today's rules, measured on the corpus validation split.

    python -m training.evaluate [--out training/SIGNALS.md]

For each draft the current Checker runs as shipped (the rules' own catches), then again with the
signals OR-ed in the way they are meant to be wired as facts:
- `encounter`: a sentence scoring at or over its threshold is an encounter sentence for every rule's
  context (as `DraftContext.mark_patient` does for a rule that marks a patient);
- `venting`: a sentence at or over its threshold counts as a venting catch for the draft, and is a
  venting sentence for the rules that need one (a name in a venting sentence);
- `name` (optional): a PERSON candidate from the entity recognizer whose name score is under its
  threshold is dropped.
This mirrors `Checker._candidates` as it is today, only to measure; the wiring itself belongs to
the rules (thresholds in YAML), not here. Never run on ../shared/eval.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from checker.candidates import Candidate
from checker.context import DraftContext, bounded_sentences, counts
from checker.report import merge_overlaps, to_finding
from checker.risk import assess
from checker.signals import MODELS_DIR, Signals
from training.train import CORPUS, MANIFEST_FILE, NAME_TYPES, read_jsonl, sentence_labels

CATEGORIES = ("identifier", "timeline", "venting")


@dataclass
class Draft:
    record: dict
    doc: object
    bounds: list
    scores: object
    encounter_labels: list
    venting_labels: list
    targets: list


def flagged_categories(checker, signals, draft: Draft, t_encounter=None, t_venting=None, t_name=None,
                       t_name_force=None, soft_gate_identifier=None) -> set[str]:
    """Categories with a warning or error, and whether the verdict is not ok, with the signals OR-ed in.
    `t_name` drops name candidates (any rule of a name type) scoring under it; `t_name_force` counts
    those scoring at or over it whatever their rule's context says. `soft_gate_identifier` drops the
    identifier warnings (not the errors: names, initials) of a draft whose `identifiable` is under it."""
    doc = draft.doc
    ctx = DraftContext(doc, checker.compiled.lexicon_hits(doc), checker.ruleset, checker.author_names, polarity=checker._polarity)
    candidates: list[Candidate] = []
    for detector in checker.detectors:
        candidates.extend(detector(doc, ctx))
    forced: set[int] = set()
    if t_name is not None or t_name_force is not None:
        spans = [(c.token_start, c.token_end) for c in candidates if c.rule.type in NAME_TYPES]
        scores = dict(zip(spans, signals.name_scores(doc, spans, draft.bounds)))
        if t_name is not None:
            candidates = [c for c in candidates if c.rule.type not in NAME_TYPES or scores[(c.token_start, c.token_end)] >= t_name]
        if t_name_force is not None:
            forced = {id(c) for c in candidates if c.rule.type in NAME_TYPES and scores[(c.token_start, c.token_end)] >= t_name_force}
    if t_encounter is not None:
        ctx.mark_patient({i for i, s in enumerate(draft.scores.encounter) if s >= t_encounter})
    ctx.mark_patient({ctx.sentence_index(c) for c in candidates if c.rule.marks_patient and counts(ctx, c)})
    vent_sentences = {i for i, s in enumerate(draft.scores.venting) if s >= t_venting} if t_venting is not None else set()
    ctx.mark_venting(vent_sentences | {ctx.sentence_index(c) for c in candidates
                                       if c.rule.category == "venting" and (c.severity or c.rule.severity) != "info" and counts(ctx, c)})
    kept = [c for c in candidates if id(c) in forced or counts(ctx, c)]
    risk, findings = assess([to_finding(ctx.text, c) for c in kept], ctx.patient_draft)
    findings = merge_overlaps(ctx.text, findings)
    if soft_gate_identifier is not None and signals.identifiable(doc) < soft_gate_identifier:
        findings = [f for f in findings if not (f.category == "identifier" and f.severity == "warning")]
    flagged = {f.category for f in findings if f.severity != "info"}  # the verdict is not ok iff any
    if vent_sentences:
        flagged.add("venting")
    return flagged


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
    for record, doc in zip(records, checker.nlp.pipe(checker.tokenizer(r["text"]) for r in records)):
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
        for t in (0.5, 0.7, 0.8):
            rows[f"rules + name>={t} counts"] = post_figures(checker, signals, drafts, t_name_force=t)
            rows[f"rules + name<0.2 dropped, >={t} counts"] = post_figures(checker, signals, drafts, t_name=0.2, t_name_force=t)
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
