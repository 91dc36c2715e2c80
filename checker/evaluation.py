"""Score a checker (or plain Presidio) on a labeled corpus, as ../shared/eval/README.md defines it.

A finding counts when its severity is warning or error. Post level: a draft labeled with a category is
caught when some counted finding has that category. Span level: a labeled span is caught when a counted
finding of its category overlaps it; a finding is correct when it overlaps a labeled span of its
category. A clean draft is a false flag when its verdict is not `ok`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

from checker.errors import InputError
from checker.report import Finding, utf16_index

CATEGORIES = ("identifier", "timeline", "venting")


@dataclass(frozen=True)
class LabeledDraft:
    id: str
    text: str
    categories: frozenset[str]
    spans: tuple[tuple[int, int, str, str], ...]  # start, end, category, type


@dataclass
class CategoryScore:
    """Counts for one category; the ratios are derived, never stored."""

    posts_labeled: int = 0
    posts_caught: int = 0
    posts_flagged: int = 0
    posts_flagged_correct: int = 0
    spans_labeled: int = 0
    spans_caught: int = 0
    findings: int = 0
    findings_correct: int = 0
    clean_flagged: int = 0
    missed_spans: list[tuple[str, str, str]] = field(default_factory=list)  # draft id, type, span text
    false_findings: list[tuple[str, str, str]] = field(default_factory=list)  # draft id, rule, text

    def ratios(self, clean_total: int) -> dict[str, float | None]:
        def ratio(a: int, b: int) -> float | None:
            return a / b if b else None

        return {
            "post_recall": ratio(self.posts_caught, self.posts_labeled),
            "post_precision": ratio(self.posts_flagged_correct, self.posts_flagged),
            "span_recall": ratio(self.spans_caught, self.spans_labeled),
            "span_precision": ratio(self.findings_correct, self.findings),
            "clean_flagged": ratio(self.clean_flagged, clean_total),
        }


@dataclass
class Score:
    drafts: int = 0
    clean: int = 0
    clean_flagged: int = 0  # clean drafts whose verdict is not ok
    categories: dict[str, CategoryScore] = field(default_factory=lambda: {c: CategoryScore() for c in CATEGORIES})

    def to_dict(self) -> dict:
        return {
            "drafts": self.drafts,
            "clean": self.clean,
            "clean_flagged": self.clean_flagged / self.clean if self.clean else None,
            "categories": {name: cat.ratios(self.clean) for name, cat in self.categories.items()},
        }


def load_corpus(path: Path) -> list[LabeledDraft]:
    """Read the JSONL corpus; a malformed line is reported by line number, never by content."""
    drafts: list[LabeledDraft] = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise InputError(f"{path}: cannot read corpus ({error.strerror})") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: corpus is not valid UTF-8") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            spans = tuple((s["start"], s["end"], s["category"], s["type"]) for s in row.get("spans", []))
            drafts.append(LabeledDraft(str(row["id"]), row["text"], frozenset(row.get("categories", [])), spans))
        except (ValueError, KeyError, TypeError):
            raise InputError(f"{path}: line {number} is not a labeled draft (needs id, text, categories, spans)") from None
    return drafts


def score(drafts: Sequence[LabeledDraft], findings_per_draft: Iterable[Sequence[Finding]]) -> Score:
    """Score findings against labels. `findings_per_draft` is aligned with `drafts`."""
    result = Score()
    for draft, findings in zip(drafts, findings_per_draft):
        counted = [f for f in findings if f.severity != "info"]
        result.drafts += 1
        if not draft.categories:
            result.clean += 1
            result.clean_flagged += bool(counted)
        for name, cat in result.categories.items():
            mine = [f for f in counted if f.category == name]
            labeled = [s for s in draft.spans if s[2] == name]
            if not draft.categories:
                cat.clean_flagged += bool(mine)
            if name in draft.categories:
                cat.posts_labeled += 1
                cat.posts_caught += bool(mine)
            if mine:
                cat.posts_flagged += 1
                cat.posts_flagged_correct += name in draft.categories
            for start, end, _, kind in labeled:
                cat.spans_labeled += 1
                if any(f.start < end and start < f.end for f in mine):
                    cat.spans_caught += 1
                else:
                    cat.missed_spans.append((draft.id, kind, draft.text[start:end]))
            for finding in mine:
                cat.findings += 1
                if any(finding.start < end and start < finding.end for start, end, _, _ in labeled):
                    cat.findings_correct += 1
                else:
                    cat.false_findings.append((draft.id, finding.rule, finding.text))
    return result


def presidio_baseline(nlp) -> Callable[[Sequence[str]], list[list[Finding]]]:
    """Plain Presidio (default recognizers, same model): DATE_TIME as timeline, the rest as identifier."""
    from checker.presidio_engine import analyze_doc, build_presidio_analyzer

    analyzer, engine = build_presidio_analyzer(nlp, trimmed=False)

    def run(texts: Sequence[str]) -> list[list[Finding]]:
        out: list[list[Finding]] = []
        for doc in nlp.pipe(texts):
            findings = []
            for r in analyze_doc(analyzer, engine, doc, entities=None):
                category = "timeline" if r.entity_type == "DATE_TIME" else "identifier"
                findings.append(Finding(
                    rule=f"presidio-{r.entity_type.lower()}", category=category, type=r.entity_type,
                    start=r.start, end=r.end, start_utf16=utf16_index(doc.text, r.start),
                    end_utf16=utf16_index(doc.text, r.end), text=doc.text[r.start:r.end], severity="warning",
                    message="", suggestion="", why="", reference="",
                ))
            out.append(findings)
        return out

    return run


def format_table(scores: dict[str, Score]) -> str:
    """Side-by-side table: one block per category, one column per system."""
    names = list(scores)
    metrics = ("post_recall", "post_precision", "span_recall", "span_precision", "clean_flagged")
    lines = []
    header = f"{'category':<11} {'metric':<15}" + "".join(f"{name:>12}" for name in names)
    lines.append(header)
    lines.append("-" * len(header))
    for category in CATEGORIES:
        for metric in metrics:
            row = f"{category:<11} {metric:<15}"
            for name in names:
                value = scores[name].categories[category].ratios(scores[name].clean)[metric]
                row += f"{'-' if value is None else f'{value:.3f}':>12}"
            lines.append(row)
    row = f"{'all':<11} {'clean_flagged':<15}"
    for name in names:
        s = scores[name]
        row += f"{s.clean_flagged / s.clean if s.clean else 0:>12.3f}"
    lines.append(row)
    first = scores[names[0]]
    lines.append(f"{first.drafts} drafts, {first.clean} clean; counted findings are warning or error")
    return "\n".join(lines)
