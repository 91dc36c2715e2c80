"""Text rendering of a report for people: the draft with each flagged span marked, then the findings.

Colour only when asked (the CLI asks when stdout is a terminal and NO_COLOR is unset); without colour,
marks are bracketed and numbered so the output still reads well when piped or pasted into a ticket.
"""

from __future__ import annotations

import textwrap

from checker.report import Report
from checker.rules import Rule

_SEVERITY_COLOUR = {"error": "\x1b[1;31m", "warning": "\x1b[33m", "info": "\x1b[36m"}
_VERDICT_COLOUR = {"block": "\x1b[1;31m", "review": "\x1b[1;33m", "ok": "\x1b[1;32m"}
_RESET = "\x1b[0m"
_WIDTH = 88


def _paint(text: str, colour: str, enabled: bool) -> str:
    return f"{colour}{text}{_RESET}" if enabled else text


def marked_draft(report: Report, text: str, colour: bool) -> str:
    """The draft with flagged spans wrapped: coloured on a terminal, `[[...]]¹` otherwise."""
    out, position = [], 0
    for number, finding in enumerate(report.findings, 1):
        if finding.start < position:  # spans of different categories may overlap; mark the first
            continue
        out.append(text[position:finding.start])
        span = text[finding.start:finding.end]
        if colour:
            out.append(_paint(span, _SEVERITY_COLOUR[finding.severity] + "\x1b[4m", True) + f"[{number}]")
        else:
            out.append(f"[[{span}]][{number}]")
        position = finding.end
    out.append(text[position:])
    return "".join(out)


def render_report(report: Report, text: str, colour: bool) -> str:
    lines = [marked_draft(report, text, colour).rstrip(), ""]
    for number, finding in enumerate(report.findings, 1):
        tag = _paint(f"{finding.severity:<7}", _SEVERITY_COLOUR[finding.severity], colour)
        lines.append(f"[{number}] {tag} {finding.rule} ({finding.category}/{finding.type}): \"{finding.text}\"")
        lines.append(_wrap("what:", finding.message))
        lines.append(_wrap("why:", f"{finding.why} ({finding.reference})"))
        lines.append(_wrap("instead:", finding.suggestion))
    if report.risk.quasi_identifiers:
        pieces = ", ".join(report.risk.quasi_identifiers)
        lines.append(f"re-identification risk: {report.risk.level} ({pieces} combine to point at one person)")
    verdict = _paint(report.verdict.upper(), _VERDICT_COLOUR[report.verdict], colour)
    counted = len(report.counted)
    lines.append(f"verdict: {verdict} ({counted} finding{'s' if counted != 1 else ''} to fix, "
                 f"{len(report.findings) - counted} note{'s' if len(report.findings) - counted != 1 else ''})")
    return "\n".join(lines)


def render_rule(rule: Rule) -> str:
    """`postcheck rules ID`: what it flags, why, an example, what to write instead (Ruff's four parts)."""
    parts = [
        f"{rule.id}  ({rule.category}/{rule.type}, {rule.severity})",
        "",
        "What it flags",
        _indent(rule.message),
        "",
        "Why",
        _indent(rule.why),
        _indent(f"Reference: {rule.reference}"),
        "",
        "Example",
        _indent(f"flags:  {rule.examples_flag[0]}"),
        _indent(f"passes: {rule.examples_pass[0]}"),
        "",
        "Instead",
        _indent(rule.instead),
    ]
    return "\n".join(parts)


def _wrap(label: str, text: str) -> str:
    return textwrap.fill(text, _WIDTH, initial_indent=f"    {label:<9}", subsequent_indent=" " * 13)


def _indent(text: str) -> str:
    return textwrap.fill(text, _WIDTH, initial_indent="  ", subsequent_indent="  ")
