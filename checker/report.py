"""Findings, the merged report, the verdict and the redacted draft.

Detectors propose candidates; this step turns the ones that survived context into findings, merges
overlaps within a category (a name found by the NER and by a title pattern is one finding), and decides
the verdict: `block` on any error, `review` on any warning, else `ok`. Info findings never change it.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable

from checker.candidates import Candidate
from checker.rules import SEVERITY_RANK

VERDICTS = ("ok", "review", "block")


@dataclass(frozen=True)
class Finding:
    """One flagged span: what it is, why it matters, what to write instead."""

    rule: str
    category: str
    type: str
    start: int
    end: int
    text: str
    severity: str
    message: str
    suggestion: str
    why: str
    reference: str
    quasi: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Risk:
    """Re-identification risk from combined quasi-identifiers in one patient narrative."""

    level: str = "low"
    quasi_identifiers: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"level": self.level, "quasi_identifiers": list(self.quasi_identifiers)}


@dataclass(frozen=True)
class Report:
    """The result of checking one draft; `to_dict()` is the JSON wire format."""

    verdict: str
    findings: tuple[Finding, ...]
    redacted: str
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


def to_finding(text: str, candidate: Candidate) -> Finding:
    rule = candidate.rule
    return Finding(
        rule=rule.id,
        category=rule.category,
        type=rule.type,
        start=candidate.start,
        end=candidate.end,
        text=text[candidate.start:candidate.end],
        severity=candidate.severity or rule.severity,
        message=rule.message,
        suggestion=rule.instead,
        why=rule.why,
        reference=rule.reference,
        quasi=rule.quasi,
    )


def merge_overlaps(text: str, findings: Iterable[Finding]) -> list[Finding]:
    """Within a category, overlapping findings become one: the most severe (then longest) rule's,
    stretched over the union of their spans so the mark covers everything that was found."""
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
    fields = best.to_dict() | {"start": start, "end": end, "text": text[start:end]}
    return Finding(**fields)


def verdict_of(findings: Iterable[Finding]) -> str:
    worst = max((SEVERITY_RANK[f.severity] for f in findings), default=0)
    return VERDICTS[worst]


# Identifier types that name a person: each word of such a finding's name is redacted wherever it
# recurs ("Mrs. Quillfeather ... the Quillfeather family"), not only the phrase that was flagged.
NAME_TYPES = frozenset({"PERSON", "INITIALS", "NICKNAME", "RELATIVE"})
_TITLES = frozenset({"mr", "mrs", "ms", "mx", "miss", "dr", "the", "pt", "patient", "baby", "little", "big"})
_WORD = re.compile(r"\w+(?:['’]\w+)*")


def redact(text: str, findings: Iterable[Finding], placeholders: dict[str, str]) -> str:
    """The draft with every identifier replaced by its rule's placeholder ("[name]", "[age]"), and every
    other occurrence of a flagged identifier's text replaced the same way, so no flagged identifier
    survives in the safer draft."""
    identifiers = [f for f in findings if f.category == "identifier"]
    spans = [(f.start, f.end, _placeholder(f, placeholders)) for f in identifiers]
    flagged = _Intervals((start, end) for start, end, _ in spans)
    spans += [span for span in _recurrences(text, identifiers, placeholders) if not flagged.overlaps(*span[:2])]
    # Pieces are collected right to left and joined once, so a long draft costs one copy, not one per span.
    pieces: list[str] = []
    last_start = len(text)
    for start, end, placeholder in sorted(spans, key=lambda s: (s[0], s[1]), reverse=True):
        if end > last_start:  # overlaps across categories were merged; guard anyway
            continue
        pieces += [text[end:last_start], placeholder]
        last_start = start
    pieces.append(text[:last_start])
    return "".join(reversed(pieces))


def _placeholder(finding: Finding, placeholders: dict[str, str]) -> str:
    return placeholders.get(finding.rule) or f"[{finding.type.lower().replace('_', ' ')}]"


def _recurrences(text: str, identifiers: list[Finding], placeholders: dict[str, str]) -> list[tuple[int, int, str]]:
    """Every place where a flagged identifier's text (any case, as whole words) or a word of a flagged
    name recurs. One `str.find` walk per distinct text, in C, however many findings share it."""
    needles: dict[str, str] = {}  # lower-case phrase -> placeholder
    for finding in identifiers:
        placeholder = _placeholder(finding, placeholders)
        needles.setdefault(_lower(finding.text.strip()), placeholder)
        if finding.type in NAME_TYPES:
            for word in _WORD.findall(finding.text):
                if len(word) > 2 and word[:1].isupper() and word.lower() not in _TITLES:
                    needles.setdefault(_lower(word), placeholder)
    needles.pop("", None)
    lowered = _lower(text)
    found = []
    for needle, placeholder in needles.items():
        # Whole words: "Ann" is not redacted inside "Annual", nor "12" inside "120".
        word_start, word_end = _is_word_char(needle[0]), _is_word_char(needle[-1])
        at = lowered.find(needle)
        while at != -1:
            end = at + len(needle)
            if not (word_start and at and _is_word_char(lowered[at - 1])) and \
                    not (word_end and end < len(lowered) and _is_word_char(lowered[end])):
                found.append((at, end, placeholder))
            at = lowered.find(needle, at + 1)
    kept: list[tuple[int, int, str]] = []  # leftmost-longest: "mrs. quillfeather" over "quillfeather" in it
    for span in sorted(found, key=lambda s: (s[0], -s[1])):
        if not kept or span[0] >= kept[-1][1]:
            kept.append(span)
    return kept


def _lower(text: str) -> str:
    """Lower case with every offset kept: the few letters that lower-case to two characters (İ) stay."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(char.lower() if len(char.lower()) == 1 else char for char in text)


class _Intervals:
    """Whether a span overlaps any of a fixed set of spans: one bisection, not a scan."""

    def __init__(self, spans: Iterable[tuple[int, int]]):
        ordered = sorted(spans)
        self.starts = [start for start, _ in ordered]
        self.reach: list[int] = []
        furthest = -1
        for _, end in ordered:
            furthest = max(furthest, end)
            self.reach.append(furthest)

    def overlaps(self, start: int, end: int) -> bool:
        before = bisect_left(self.starts, end)
        return before > 0 and self.reach[before - 1] > start


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"
