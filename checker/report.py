"""Findings, the merged report and the verdict.

Detectors propose candidates; this step turns the ones that survived context into findings, merges
overlaps within a category (a name found by the NER and by a title pattern is one finding), and decides
the verdict: `block` on any error, `review` on any warning, else `ok`. Info findings never change it.
Each finding's rewrite and the safer draft (`redacted`) come from checker/advice.py.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, Collection, Iterable

from checker.candidates import Candidate
from checker.rules import SEVERITY_RANK
from checker.spans import SpanIndex

VERDICTS = ("ok", "review", "block")


@dataclass(frozen=True)
class Finding:
    """One flagged span: what it is, why it matters, what to write instead.

    `start`/`end` index the draft as Python does (code points); `start_utf16`/`end_utf16` index it as
    JavaScript and Java do (UTF-16 code units, where a character past U+FFFF, such as most emoji,
    counts two), so a browser's `text.slice(start_utf16, end_utf16)` is the flagged text.
    """

    rule: str
    category: str
    type: str
    start: int
    end: int
    start_utf16: int
    end_utf16: int
    text: str
    severity: str
    message: str
    suggestion: str
    why: str
    reference: str
    quasi: str | None = None
    # Drop-in text for text[start:end] that fixes this finding (a rounded age, a placeholder), or None
    # when only the author can rewrite it (venting); see checker/advice.py.
    rewrite: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Risk:
    """Re-identification risk from combined quasi-identifiers in one patient narrative.

    `details` are the pieces that were counted, as (kind, start, end), including those that are never
    findings by themselves (a decade), so a reader can see what adds up."""

    level: str = "low"
    quasi_identifiers: tuple[str, ...] = ()
    details: tuple[tuple[str, int, int], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"level": self.level, "quasi_identifiers": list(self.quasi_identifiers),
                "details": [{"kind": kind, "start": start, "end": end} for kind, start, end in self.details]}


@dataclass(frozen=True)
class Report:
    """The result of checking one draft; `to_dict()` is the JSON wire format."""

    verdict: str
    findings: tuple[Finding, ...]
    redacted: str  # the safer draft: every finding that has a rewrite rewritten
    risk: Risk = field(default_factory=Risk)

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "findings": [finding.to_dict() for finding in self.findings],
            "redacted": self.redacted,
            "risk": self.risk.to_dict(),
        }

    @property
    def counted(self) -> tuple[Finding, ...]:
        """Findings that affect the verdict (warning or error)."""
        return tuple(f for f in self.findings if f.severity != "info")

    def at_least(self, severity: str) -> "Report":
        """The report with findings below `severity` left out and the verdict decided by the rest
        (`--min-severity`); the safer draft and the risk are unchanged."""
        floor = SEVERITY_RANK[severity]
        kept = tuple(f for f in self.findings if SEVERITY_RANK[f.severity] >= floor)
        return replace(self, findings=kept, verdict=verdict_of(kept))


def utf16_index(text: str, index: int) -> int:
    """Where code point `index` of `text` falls when the text is counted in UTF-16 code units."""
    return len(text[:index].encode("utf-16-le")) // 2


def to_finding(text: str, candidate: Candidate) -> Finding:
    rule = candidate.rule
    return Finding(
        rule=rule.id,
        category=rule.category,
        type=rule.type,
        start=candidate.start,
        end=candidate.end,
        start_utf16=utf16_index(text, candidate.start),
        end_utf16=utf16_index(text, candidate.end),
        text=text[candidate.start:candidate.end],
        severity=candidate.severity or rule.severity,
        message=candidate.message or rule.message,
        suggestion=rule.instead,
        why=rule.why,
        reference=rule.reference,
        quasi=rule.quasi,
    )


def merge_overlaps(text: str, findings: Iterable[Finding], wide: Collection[str] = ()) -> list[Finding]:
    """Within a category, overlapping findings become one: the most severe (then longest) rule's,
    stretched over the union of their spans so the mark covers everything that was found.

    Findings of the `wide` rules mark a whole sentence because no one word carries them (the learned
    venting rule). One that overlaps a finding of the same category from a rule that knows the words is
    dropped instead: "frequent flyer" stays the mark to rewrite, not the sentence around it."""
    findings = list(findings)
    if wide:
        exact = [f for f in findings if f.rule not in wide]
        marked: dict[str, SpanIndex] = {}
        for category in {f.category for f in findings if f.rule in wide}:
            marked[category] = SpanIndex((e.start, e.end) for e in exact if e.category == category)
        findings = exact + [f for f in findings if f.rule in wide and not marked[f.category].overlaps(f.start, f.end)]
    by_category: dict[str, list[Finding]] = {}
    for finding in findings:
        by_category.setdefault(finding.category, []).append(finding)
    merged: list[Finding] = []
    for group in by_category.values():
        group.sort(key=lambda f: (f.start, -f.end))
        current: list[Finding] = []
        for finding in group:
            if current and finding.start < max(f.end for f in current):
                current.append(finding)
                continue
            if current:
                merged.append(_combine(text, current))
            current = [finding]
        if current:
            merged.append(_combine(text, current))
    return sorted(merged, key=lambda f: (f.start, f.end, f.category))


def _combine(text: str, group: list[Finding]) -> Finding:
    best = max(group, key=lambda f: (SEVERITY_RANK[f.severity], f.end - f.start))
    start, end = min(f.start for f in group), max(f.end for f in group)
    if (start, end) == (best.start, best.end):
        return best
    return replace(best, start=start, end=end, start_utf16=utf16_index(text, start),
                   end_utf16=utf16_index(text, end), text=text[start:end])


def verdict_of(findings: Iterable[Finding]) -> str:
    worst = max((SEVERITY_RANK[f.severity] for f in findings), default=0)
    return VERDICTS[worst]
