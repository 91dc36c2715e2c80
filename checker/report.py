"""Findings, the merged report, the verdict and the redacted draft.

Detectors propose candidates; this step turns the ones that survived context into findings, merges
overlaps within a category (a name found by the NER and by a title pattern is one finding), and decides
the verdict: `block` on any error, `review` on any warning, else `ok`. Info findings never change it.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Iterable, Mapping

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
    `replacement` is a drop-in rewrite of the flagged text where there is one (see `with_rewrites`).
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
    replacement: str | None = None

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
    return replace(best, start=start, end=end, start_utf16=utf16_index(text, start),
                   end_utf16=utf16_index(text, end), text=text[start:end])


def verdict_of(findings: Iterable[Finding]) -> str:
    worst = max((SEVERITY_RANK[f.severity] for f in findings), default=0)
    return VERDICTS[worst]


def placeholder_for(finding: Finding, placeholders: Mapping[str, str]) -> str:
    """What stands in for an identifier: its rule's `redact` text ("[name]", "[age]"), else its type."""
    return placeholders.get(finding.rule) or f"[{finding.type.lower().replace('_', ' ')}]"


# An exact age in years ("82yo", "67-year-old", "aged 52", "52F", "(F, 52)"): the number and its unit.
_EXACT_AGE = re.compile(
    r"(?<![\d.])(\d{1,3})(?!\d|\.\d|s\b|-something)"
    r"([ \t]?(?:-[ \t]?)?(?:yo|y\.o\.|y/o|yrs?[ \t]?old|years?[ \t-]old|-?year-old|yr-old)(?!\w))?"
)
_NOT_IN_YEARS = re.compile(r"(?:month|week|day)s?[ \t-]old", re.IGNORECASE)
ROUNDED_AGES = range(20, 90)  # "a 10-something" reads wrong; 90 and over is Safe Harbor's own bucket


def rounded_age(span: str) -> str | None:
    """The span with its exact age rounded down to a decade ("82yo" -> "80-something", "(F, 52)" ->
    "(F, 50-something)"), or None where rounding is not the safe rewrite: ages under 20 or over 89,
    ages in months, weeks or days, and spans that hold no exact age."""
    match = _EXACT_AGE.search(span)
    if match is None or _NOT_IN_YEARS.search(span) or int(match.group(1)) not in ROUNDED_AGES:
        return None
    rounded = f"{int(match.group(1)) // 10 * 10}-something"
    after = span[match.end():]
    return span[:match.start()] + rounded + (" " if after[:1].isalpha() else "") + after


def with_rewrites(findings: Iterable[Finding], placeholders: Mapping[str, str]) -> list[Finding]:
    """Each identifier with its `replacement`: an exact age rounded to its decade where that is safe,
    else the placeholder the redacted draft uses. Timelines and venting have no drop-in rewrite (what to
    write instead depends on the story), so theirs stays None."""
    out = []
    for finding in findings:
        if finding.category == "identifier":
            rewrite = rounded_age(finding.text) if finding.type == "AGE" else None
            finding = replace(finding, replacement=rewrite or placeholder_for(finding, placeholders))
        out.append(finding)
    return out


# Identifier types that name a person: each word of such a finding's name is redacted wherever it
# recurs ("Mrs. Quillfeather ... the Quillfeather family"), not only the phrase that was flagged.
NAME_TYPES = frozenset({"PERSON", "INITIALS", "NICKNAME", "RELATIVE"})
_TITLES = frozenset({"mr", "mrs", "ms", "mx", "miss", "dr", "the", "pt", "patient", "baby", "little", "big"})
_WORD = re.compile(r"\w+(?:['’]\w+)*")


def redact(text: str, findings: Iterable[Finding], placeholders: Mapping[str, str]) -> str:
    """The draft with every identifier replaced by its rule's placeholder ("[name]", "[age]"), and every
    other occurrence of a flagged identifier's text replaced the same way, so no flagged identifier
    survives in the safer draft."""
    identifiers = [f for f in findings if f.category == "identifier"]
    spans = [(f.start, f.end, placeholder_for(f, placeholders)) for f in identifiers]
    flagged = SpanIndex((start, end) for start, end, _ in spans)
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


def _recurrences(text: str, identifiers: list[Finding], placeholders: Mapping[str, str]) -> list[tuple[int, int, str]]:
    """Every place where a flagged identifier's text (any case, as whole words) or a word of a flagged
    name recurs. One `str.find` walk per distinct text, in C, however many findings share it."""
    needles: dict[str, str] = {}  # lower-case phrase -> placeholder
    for finding in identifiers:
        placeholder = placeholder_for(finding, placeholders)
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


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"
