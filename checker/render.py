"""Text rendering of a report for people: read in seconds, act on at once.

    the draft, each flagged span marked [[like this]][1]
    [1] error    What it is: "the span". What to write instead. (rule-id)
    BLOCK: 2 findings to fix; together the age and the place can point at one person.
    Safer draft:
      the draft with every rewrite applied

`--explain` adds, under each finding, why it matters and its reference, and the details that make up the
re-identification risk; `postcheck rules RULE` explains one rule in full. Colour only when asked (the CLI
asks when stdout is a terminal and NO_COLOR is unset); without colour, marks are bracketed and numbered
so the output reads the same when piped or pasted into a ticket. Every mark's numbers are listed, in
order, and every listed finding is marked: overlapping findings share one mark ("[[...]][2,3]").
"""

from __future__ import annotations

import textwrap
from typing import Sequence

from checker.advice import fill_instead
from checker.report import Finding, Report
from checker.rules import Rule

_SEVERITY_COLOUR = {"error": "\x1b[1;31m", "warning": "\x1b[33m", "info": "\x1b[36m"}
_VERDICT_COLOUR = {"block": "\x1b[1;31m", "review": "\x1b[1;33m", "ok": "\x1b[1;32m"}
_DIM, _UNDERLINE, _RESET = "\x1b[2m", "\x1b[4m", "\x1b[0m"
_WIDTH = 88
# What people call each severity: "info" findings are notes that never change the verdict.
SEVERITY_LABEL = {"error": "error", "warning": "warning", "info": "note"}
# The kinds of detail that add up to a person, in words (rules' `quasi:` values).
DETAIL_WORDS = {"age": "age", "sex": "sex", "place": "place", "time": "time", "occupation": "job",
                "condition": "condition", "event": "event", "family": "family detail", "unique": "unusual detail"}
# Drafts longer than this show only their flagged lines, numbered, in the marked and safer drafts.
FULL_DRAFT_LINES = 20
FULL_DRAFT_CHARS = 2000
_QUOTE_CHARS = 48


def _paint(text: str, colour: str, enabled: bool) -> str:
    return f"{colour}{text}{_RESET}" if enabled else text


def line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of an offset."""
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


def marked_regions(findings: Sequence[Finding]) -> list[tuple[int, int, list[int], str]]:
    """(start, end, finding numbers, worst severity) for each run of overlapping findings; numbers are
    1-based positions in `findings`, which come sorted by start."""
    regions: list[tuple[int, int, list[int], str]] = []
    rank = {"info": 0, "warning": 1, "error": 2}
    for number, finding in enumerate(findings, 1):
        if regions and finding.start < regions[-1][1]:
            start, end, numbers, worst = regions[-1]
            worst = max(worst, finding.severity, key=rank.__getitem__)
            regions[-1] = (start, max(end, finding.end), numbers + [number], worst)
        else:
            regions.append((finding.start, finding.end, [number], finding.severity))
    return regions


def marked_draft(report: Report, text: str, colour: bool) -> str:
    """The draft with flagged spans wrapped: coloured and underlined on a terminal, `[[...]][1]` otherwise."""
    out, position = [], 0
    for start, end, numbers, worst in marked_regions(report.findings):
        out.append(text[position:start])
        label = f"[{','.join(map(str, numbers))}]"
        if colour:
            out.append(_paint(text[start:end], _SEVERITY_COLOUR[worst] + _UNDERLINE, True) + _paint(label, _DIM, True))
        else:
            out.append(f"[[{text[start:end]}]]{label}")
        position = end
    out.append(text[position:])
    return "".join(out)


def render_report(report: Report, text: str, colour: bool, *, source: str | None = None,
                  explain: bool = False, hidden: int = 0) -> str:
    """The whole text report for one draft. `source` (a file path) puts `file:line:col` on each finding;
    `hidden` is how many findings `--min-severity` left out."""
    lines = _excerpt(marked_draft(report, text, colour), text, report.findings)
    lines.append("")
    places = [f"{source}:{':'.join(map(str, line_col(text, f.start)))}" if source is not None else ""
              for f in report.findings]
    width = max(map(len, places), default=0)
    for number, (finding, place) in enumerate(zip(report.findings, places), 1):
        lines.append(finding_line(number, finding, colour, place.ljust(width)))
        if explain:
            lines.append(_wrap("why:", f"{finding.why} ({finding.reference})"))
    if explain and report.risk.level != "low":
        lines.append(risk_detail(report, text))
    if report.findings:
        lines.append("")
    lines.append(closing_line(report, colour, hidden))
    if report.redacted != text:
        changed = [f for f in report.findings if f.rewrite is not None]
        lines.append("Safer draft (rewrite the venting yourself):" if _has_unrewritten(report) else "Safer draft:")
        lines.extend(f"  {line}" if line else "" for line in _excerpt(report.redacted, text, changed, safer=True))
    elif report.findings and not explain:
        lines.append("(postcheck cannot rewrite these for you; --explain says why each matters)")
    return "\n".join(lines)


def finding_line(number: int, finding: Finding, colour: bool, place: str = "") -> str:
    """`[1] draft.md:3:14 error   Age over 89: "91yo". Say "90 or older" ... (age-over-89)`; `place` is
    the finding's `file:line:col` when checking files."""
    where = f"{place} " if place else ""
    tag = _paint(f"{SEVERITY_LABEL[finding.severity]:<7}", _SEVERITY_COLOUR[finding.severity], colour)
    quoted = " ".join(finding.text.split())
    if len(quoted) > _QUOTE_CHARS:
        quoted = quoted[:_QUOTE_CHARS - 1].rstrip() + "…"
    rule = _paint(f"({finding.rule})", _DIM, colour)
    return f"[{number}] {where}{tag} {finding.message}: \"{quoted}\". {_sentence(finding.suggestion)} {rule}"


def closing_line(report: Report, colour: bool, hidden: int = 0) -> str:
    """`BLOCK: 6 findings to fix; together the age, place and time can point at one person.`"""
    verdict = _paint(report.verdict.upper(), _VERDICT_COLOUR[report.verdict], colour)
    counted = len(report.counted)
    notes = len(report.findings) - counted
    if not report.findings:
        summary = "nothing to fix"
    else:
        parts = []
        if counted:
            parts.append(f"{counted} finding{'s' if counted != 1 else ''} to fix")
        if notes:
            parts.append(f"{notes} note{'s' if notes != 1 else ''}")
        summary = ", ".join(parts)
    if hidden:
        summary += f" ({hidden} below --min-severity not shown)"
    if report.risk.level != "low":
        summary += f"; together the {_join(DETAIL_WORDS[k] for k in report.risk.quasi_identifiers)} can point at one person"
    return f"{verdict}: {summary}."


def risk_detail(report: Report, text: str) -> str:
    """The details that add up, each with its words from the draft (`--explain`)."""
    pieces = [f'{DETAIL_WORDS[kind]} ("{" ".join(text[start:end].split())}")' for kind, start, end in report.risk.details]
    return _wrap("risk:", f"{report.risk.level} re-identification risk. These details of one patient add up: "
                          f"{', '.join(pieces)}. Each is common on its own; together they can point at one "
                          "person. Rewrite enough of them that they no longer do.")


def render_rule(rule: Rule) -> str:
    """`postcheck rules ID`: what it flags, why, an example, what to write instead (Ruff's four parts)."""
    parts = [
        f"{rule.id}  ({rule.category}, {SEVERITY_LABEL[rule.severity]})",
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
        _indent(fill_instead(rule.instead, None)),
    ]
    if rule.risk_only:
        parts += ["", _indent("Never a finding by itself: it only counts toward the re-identification risk.")]
    return "\n".join(parts)


# -- internals ----------------------------------------------------------------------------------------------

def _excerpt(rendered: str, text: str, findings: Sequence[Finding], safer: bool = False) -> list[str]:
    """A short draft whole; a long one as its flagged lines only, each with its line number."""
    lines = rendered.rstrip().split("\n")
    if text.count("\n") < FULL_DRAFT_LINES and len(text) <= FULL_DRAFT_CHARS:
        return lines
    if safer and len(lines) != len(text.rstrip().split("\n")):
        return lines  # a rewrite changed the line count: show it all rather than misnumber it
    flagged = sorted({line_col(text, f.start)[0] for f in findings})
    width = len(str(flagged[-1])) if flagged else 1
    return [f"{number:>{width}}| {lines[number - 1]}" for number in flagged if number <= len(lines)]


def _has_unrewritten(report: Report) -> bool:
    return any(f.rewrite is None and f.severity != "info" for f in report.findings)


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def _join(words) -> str:
    words = list(words)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _wrap(label: str, text: str) -> str:
    return textwrap.fill(text, _WIDTH, initial_indent=f"    {label:<6}", subsequent_indent=" " * 10)


def _indent(text: str) -> str:
    return textwrap.fill(text, _WIDTH, initial_indent="  ", subsequent_indent="  ")
