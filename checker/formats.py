"""Machine-readable output for the CLI: JSON, JSON Lines, SARIF 2.1.0 and GitHub annotations.

These formats end up in CI logs and code-scanning dashboards, which other people read. So they locate
each finding (file, line, column) and say what it is and what to write instead, and never quote the
draft: the span stays in the file it came from. (`--format json` is the library's report, spans
included, for programs running on the author's own machine.)

Columns: SARIF counts UTF-16 code units (`columnKind: utf16CodeUnits`, as GitHub code scanning and
most editors expect); GitHub annotations and the text output count characters. Lines and columns are
1-based; an end column is one past the last character.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from checker import __version__
from checker.report import Finding, Report
from checker.rules import Rule

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
GITHUB_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


@dataclass(frozen=True)
class Checked:
    """One checked input: its name for people (a path, or None for --text and stdin), text and report."""

    source: str | None
    text: str
    report: Report


def to_json(results: Sequence[Checked]) -> str:
    """One input: the report itself (the library's and the service's JSON). Several: a list of reports,
    each with its "file"."""
    if len(results) == 1:
        return json.dumps(results[0].report.to_dict(), ensure_ascii=False, indent=2)
    return json.dumps([_with_file(r) for r in results], ensure_ascii=False, indent=2)


def to_jsonl(results: Sequence[Checked]) -> str:
    return "\n".join(json.dumps(_with_file(r), ensure_ascii=False) for r in results)


def to_sarif(results: Sequence[Checked], rules: Iterable[Rule]) -> str:
    """A SARIF 2.1.0 log with one run: the rules that fired, then one result per finding."""
    by_id = {rule.id: rule for rule in rules}
    used = sorted({f.rule for r in results for f in r.report.findings})
    index = {rule_id: number for number, rule_id in enumerate(used)}
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "postcheck",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [_sarif_rule(by_id[rule_id]) if rule_id in by_id else {"id": rule_id} for rule_id in used],
            }},
            "columnKind": "utf16CodeUnits",
            "results": [_sarif_result(r, f, index[f.rule]) for r in results for f in r.report.findings],
        }],
    }
    return json.dumps(log, ensure_ascii=False, indent=2)


def to_github(results: Sequence[Checked]) -> str:
    """GitHub Actions workflow commands: `::error file=F,line=L,col=C,endLine=L,endColumn=C,title=RULE::msg`."""
    lines = []
    for result in results:
        for finding in result.report.findings:
            (line, col), (end_line, end_col) = _position(result.text, finding.start), _position(result.text, finding.end)
            properties = [f"file={_property(result.source)}"] if result.source else []
            properties += [f"line={line}", f"col={col}", f"endLine={end_line}", f"endColumn={end_col}",
                           f"title={_property(finding.rule)}"]
            lines.append(f"::{GITHUB_LEVEL[finding.severity]} {','.join(properties)}::{_data(message(finding))}")
    return "\n".join(lines)


def message(finding: Finding) -> str:
    """What a finding is and what to write instead, without the draft's words."""
    suggestion = finding.suggestion.strip()
    return f"{finding.message}. {suggestion}" if suggestion else finding.message


# -- internals ----------------------------------------------------------------------------------------------

def _with_file(result: Checked) -> dict[str, Any]:
    return {"file": result.source if result.source is not None else "-"} | result.report.to_dict()


def _sarif_rule(rule: Rule) -> dict[str, Any]:
    from checker.advice import fill_instead

    return {
        "id": rule.id,
        "shortDescription": {"text": rule.message},
        "fullDescription": {"text": rule.why},
        "help": {"text": f"{fill_instead(rule.instead, None)} Reference: {rule.reference}"},
        "defaultConfiguration": {"level": SARIF_LEVEL[rule.severity]},
        "properties": {"category": rule.category, "tags": [rule.category, rule.type]},
    }


def _sarif_result(result: Checked, finding: Finding, rule_index: int) -> dict[str, Any]:
    start_line, start_col = _position(result.text, finding.start, utf16=True)
    end_line, end_col = _position(result.text, finding.end, utf16=True)
    return {
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": SARIF_LEVEL[finding.severity],
        "message": {"text": message(finding)},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": _uri(result.source)},
            "region": {"startLine": start_line, "startColumn": start_col, "endLine": end_line, "endColumn": end_col},
        }}],
    }


def _position(text: str, offset: int, utf16: bool = False) -> tuple[int, int]:
    """1-based (line, column) of a string offset; columns in characters or in UTF-16 code units."""
    line_start = text.rfind("\n", 0, offset) + 1
    before = text[line_start:offset]
    column = len(before.encode("utf-16-le")) // 2 if utf16 else len(before)
    return text.count("\n", 0, offset) + 1, column + 1


def _uri(source: str | None) -> str:
    if source is None:
        return "stdin"
    return source.replace("\\", "/")


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")
