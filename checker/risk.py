"""Re-identification risk: pieces that name nobody yet point at one person when they combine.

Most breaches in physicians' posts name no one; they combine an age, a place, a time and a story.
Each rule that marks such a piece declares its kind (`quasi:` in the rule file). In a draft that
narrates a patient, two distinct kinds raise every quasi-identifier finding from info to warning; three
or more make the draft `block` by raising the identifying pieces to error, even with no direct identifier.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Sequence

from checker.report import Finding, Risk
from checker.rules import QUASI_KINDS, SEVERITY_RANK

MEDIUM_AT = 2
HIGH_AT = 3


def assess(findings: Sequence[Finding], patient_draft: bool) -> tuple[Risk, list[Finding]]:
    """The draft's risk and its findings with severities adjusted for the combination."""
    pieces = [f for f in findings if f.quasi] if patient_draft else []
    kinds = {f.quasi for f in pieces}
    ordered = tuple(kind for kind in QUASI_KINDS if kind in kinds)
    details = _details(pieces)
    if len(ordered) >= HIGH_AT:
        level = "high"
    elif len(ordered) >= MEDIUM_AT:
        level = "medium"
    else:
        return Risk("low", ordered, details), list(findings)
    adjusted = [_raise(f, level) if f.quasi else f for f in findings]
    return Risk(level, ordered, details), adjusted


def _raise(finding: Finding, level: str) -> Finding:
    floor = "error" if level == "high" and finding.category == "identifier" else "warning"
    if SEVERITY_RANK[finding.severity] >= SEVERITY_RANK[floor]:
        return finding
    note = f" Combined with other details in this draft ({level} re-identification risk), it can point at one person."
    return replace(finding, severity=floor, why=finding.why + note)


def _details(pieces: Sequence[Finding]) -> tuple[tuple[str, int, int], ...]:
    """(kind, start, end) of each counted piece; overlapping pieces of one kind ("from Harlowe" and
    "Harlowe") are one."""
    merged: list[tuple[str, int, int]] = []
    for kind, start, end in sorted((f.quasi, f.start, f.end) for f in pieces):
        if merged and merged[-1][0] == kind and start < merged[-1][2]:
            merged[-1] = (kind, merged[-1][1], max(end, merged[-1][2]))
        else:
            merged.append((kind, start, end))
    return tuple(sorted(merged, key=lambda d: (d[1], d[2])))
