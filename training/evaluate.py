"""What the learned signals add to the rules, as shipped, on the corpus validation split.

    python -m training.evaluate [--sweep] [--misses N] [--out figures.json]

Rows: the shipped checker, the rules alone (`Checker(learned=False)`), and with `--sweep` the shipped
rules with one signal threshold changed (the rule files are copied and the one number edited, so each
row is exactly what an organisation would get by editing its rules). Then the drafts the shipped
checker misses or flags falsely, with their highest sentence scores: what the next model or rule
should learn from. Never run on ../shared/eval; `postcheck eval FILE --baseline rules` is the command
for any labelled file.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
from pathlib import Path
from typing import Sequence

from checker.evaluation import CATEGORIES, load_corpus, score
from checker.pipeline import Checker
from checker.rules import builtin_rules_dir, load_rule_files
from checker.syntax import bounded_sentences
from training.train import CORPUS

# (file, the text holding the threshold, values to try): each knob the shipped rules turn.
KNOBS = {
    "encounter fact": ("context.yaml", "signal: {model: encounter, at_least: {}}", (0.7, 0.8, 0.9)),
    "venting rule": ("venting.yaml", "signal: {model: venting, at_least: {}}", (0.8, 0.85, 0.9)),
    "identifiable gate": ("context.yaml", "model: identifiable, at_least: {}", (0.2, 0.3, 0.4)),
    "encounter gate (times)": ("context.yaml", "model: encounter, at_least: {}, scope: draft", (0.4, 0.5, 0.6)),
}


def figures(checker: Checker, drafts) -> tuple[dict, list]:
    reports = list(checker.check_many([d.text for d in drafts]))
    result = score(drafts, (r.findings for r in reports)).to_dict()
    row = {"clean_flagged": round(result["clean_flagged"], 3)}
    for category in CATEGORIES:
        row[f"{category}_post"] = round(result["categories"][category]["post_recall"], 3)
        row[f"{category}_span"] = round(result["categories"][category]["span_recall"], 3)
    return row, reports


def with_threshold(file: str, template: str, value: float) -> Checker:
    """The shipped rules with one threshold changed, loaded from a copy of their files."""
    pattern = re.escape(template).replace(r"\{\}", r"[0-9.]+")
    with tempfile.TemporaryDirectory() as copy:
        paths = []
        for source in sorted(builtin_rules_dir().glob("*.yaml")):
            text = source.read_text(encoding="utf-8")
            if source.name == file:
                text, changed = re.subn(pattern, template.replace("{}", str(value)), text)
                assert changed == 1, f"{template} not found once in {file}"
            paths.append(Path(copy) / source.name)
            paths[-1].write_text(text, encoding="utf-8")
        return Checker(ruleset=load_rule_files(paths))


def worst(checker: Checker, drafts, reports, n: int) -> dict[str, list]:
    """Missed labelled drafts (per category) and flagged clean drafts, each with its highest encounter
    and venting sentence scores and the rules that fired."""
    rows: dict[str, list] = {"false flags": []} | {f"missed {c}": [] for c in CATEGORIES}
    for draft, report in zip(drafts, reports):
        flagged = {f.category for f in report.findings if f.severity != "info"}
        doc = checker.parse(draft.text)
        scores = checker.signals.score(doc, bounded_sentences(doc))
        row = {"id": draft.id, "encounter": round(max(scores.encounter, default=0), 2),
               "venting": round(max(scores.venting, default=0), 2),
               "identifiable": round(checker.signals.identifiable(doc), 2),
               "rules": sorted({f.rule for f in report.findings if f.severity != "info"}),
               "text": draft.text[:140].replace("\n", " ")}
        if not draft.categories and flagged:
            rows["false flags"].append(row)
        for category in set(draft.categories) - flagged:
            rows[f"missed {category}"].append(row)
    for kind, found in rows.items():
        key = "venting" if "venting" in kind else "encounter"
        found.sort(key=lambda r: r[key], reverse=kind == "false flags")
        rows[kind] = found[:n]
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.evaluate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sweep", action="store_true", help="also change each signal threshold in turn")
    parser.add_argument("--misses", type=int, default=10, help="worst misses and false flags to list")
    parser.add_argument("--out", type=Path, default=None, help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    drafts = load_corpus(CORPUS / "validation.jsonl")
    shipped = Checker()
    rows = {}
    rows["shipped"], reports = figures(shipped, drafts)
    rows["rules only"], _ = figures(Checker(learned=False), drafts)
    if args.sweep:
        for knob, (file, template, values) in KNOBS.items():
            for value in values:
                rows[f"{knob} {value}"], _ = figures(with_threshold(file, template, value), drafts)
    columns = list(rows["shipped"])
    print(f"{'system':<28}" + "".join(f"{c:>17}" for c in columns))
    for name, row in rows.items():
        print(f"{name:<28}" + "".join(f"{row[c]:>17.3f}" for c in columns))
    lists = worst(shipped, drafts, reports, args.misses)
    for kind, found in lists.items():
        print(f"\n{kind}")
        for r in found:
            print(f"  {r['id']} enc {r['encounter']:.2f} vent {r['venting']:.2f} ident {r['identifiable']:.2f} "
                  f"{','.join(r['rules']) or '-'}: {r['text']}")
    if args.out:
        args.out.write_text(json.dumps({"rows": rows, "worst": lists}, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
