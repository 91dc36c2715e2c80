"""Speak LanguageTool's HTTP API, so its clients and browser add-ons underline postcheck's findings.

A user points an add-on's "custom server" setting at postcheck; the add-on posts the text of the field
being typed in to /v2/check and draws each match at `offset`/`length`. Those are counted in UTF-16 code
units (Java and JavaScript strings), not in code points as Python counts: an emoji before a finding is
two units there and one here, so every offset is converted, or the underline lands on the wrong words.

Add-ons may send `data` (the text as annotation pieces, markup kept so offsets match the page) instead
of `text`; markup is checked as its `interpretAs` (if any) and offsets point into the original.

LanguageTool clients cannot send an Authorization header; they send `username` and `apiKey` with the
request, and here `apiKey` is POSTCHECK_TOKEN (`require_api_key`). Each match links to its rule's page
(`rule.urls`) and carries a drop-in rewrite where the finding has one (`replacements`).
"""

from __future__ import annotations

import json
import re
from bisect import bisect_left
from dataclasses import dataclass
from typing import Callable, Iterable

from fastapi import HTTPException, Request

from checker.errors import InputError
from checker.report import Finding, Report
from checker.rules import Rule
from .middleware import UNVERIFIED_TOKEN, token_matches
from .schemas import (
    LTCategory,
    LTCheckForm,
    LTContext,
    LTDetectedLanguage,
    LTLanguage,
    LTLanguageEntry,
    LTMatch,
    LTReplacement,
    LTRule,
    LTSoftware,
    LTUrl,
)

LANGUAGES = (
    LTLanguageEntry(name="English", code="en", longCode="en"),
    LTLanguageEntry(name="English (US)", code="en", longCode="en-US"),
    LTLanguageEntry(name="English (GB)", code="en", longCode="en-GB"),
    LTLanguageEntry(name="English (Canada)", code="en", longCode="en-CA"),
    LTLanguageEntry(name="English (Australia)", code="en", longCode="en-AU"),
    LTLanguageEntry(name="English (New Zealand)", code="en", longCode="en-NZ"),
    LTLanguageEntry(name="English (South African)", code="en", longCode="en-ZA"),
)
_BY_CODE = {entry.longCode.lower(): entry for entry in LANGUAGES}
CATEGORY_NAMES = {
    "identifier": "Patient identifier",
    "timeline": "Encounter timeline",
    "venting": "Venting",
    "conduct": "Professional conduct",
}
# LanguageTool's issue types drive the underline colour in add-ons; privacy problems are "legal",
# tone problems are "register" (ITS 2.0 localization-quality issue types).
ISSUE_TYPES = {"identifier": "legal", "timeline": "legal", "venting": "register", "conduct": "register"}
CONTEXT_CHARS = 40
# Display only (LanguageTool's `sentence`): a break after . ! ? or at a line end, but not after a title.
_SENTENCE_BREAK = re.compile(r"(?<!\bMr\.)(?<!\bMrs\.)(?<!\bMs\.)(?<!\bDr\.)(?<!\bSt\.)(?<=[.!?])\s+|\n+")


def resolve_language(tag: str) -> LTLanguage:
    """'auto' and every English variant are accepted; anything else is refused (English rules only)."""
    entry = _BY_CODE.get("en-us" if tag.strip().lower() == "auto" else tag.strip().lower().replace("_", "-"))
    if entry is None:
        codes = ", ".join(e.longCode for e in LANGUAGES)
        raise InputError(f"unsupported language; postcheck checks English only (auto, {codes})")
    detected = LTDetectedLanguage(name=entry.name, code=entry.longCode)
    return LTLanguage(name=entry.name, code=entry.longCode, detectedLanguage=detected)


def software(version: str) -> LTSoftware:
    return LTSoftware(name="postcheck", version=version)


async def require_api_key(request: Request) -> None:
    """A dependency for the LanguageTool routes: when the token middleware let a request through without
    an Authorization header (see middleware.BearerToken), its `apiKey` field, in the form or the query
    string, must be the token. Runs before the body is validated, so a stranger learns nothing but 401."""
    if not request.scope.get("state", {}).get(UNVERIFIED_TOKEN):
        return
    presented = request.query_params.get("apiKey")
    if presented is None and request.method == "POST":
        presented = (await request.form()).get("apiKey")
    if not isinstance(presented, str) or not token_matches(presented, request.app.state.settings.token):
        raise HTTPException(401, "missing or wrong token: send Authorization: Bearer <POSTCHECK_TOKEN>, or "
                                 "LanguageTool's username and apiKey fields with apiKey=<POSTCHECK_TOKEN>",
                            headers={"WWW-Authenticate": "Bearer"})


@dataclass(frozen=True)
class RuleSelection:
    """Which rules a LanguageTool request turns off (`disabled`, passed to the checker) and whose
    info-level notes it asks for without level=picky (`noted`).

    LanguageTool's meaning, mapped: `enabledRules` and `enabledCategories` switch on what is off by
    default, which here is a rule's info-level notes; with `enabledOnly=true` nothing else runs. Category
    ids are the ones matches carry (IDENTIFIER, TIMELINE, VENTING, CONDUCT; any case). Ids postcheck does
    not know (WHITESPACE_RULE, TYPOS) are ignored, as LanguageTool ignores ids it does not know.
    """

    disabled: frozenset[str]
    noted: frozenset[str]

    @classmethod
    def from_form(cls, form: LTCheckForm, rules: Iterable[Rule]) -> "RuleSelection":
        rules = tuple(rules)
        enabled, disabled = _ids(form.enabledRules), _ids(form.disabledRules)
        enabled_categories = {c.lower() for c in _ids(form.enabledCategories)}
        disabled_categories = {c.lower() for c in _ids(form.disabledCategories)}
        if form.enabledOnly and not (enabled or enabled_categories):
            raise InputError("enabledOnly=true needs enabledRules or enabledCategories")
        chosen = {r.id for r in rules if r.id in enabled or r.category in enabled_categories}
        off = {r.id for r in rules if r.id in disabled or r.category in disabled_categories}
        if form.enabledOnly:
            off |= {r.id for r in rules} - chosen
        return cls(frozenset(off), frozenset(chosen - off))


def _ids(field: str | None) -> set[str]:
    return {part.strip() for part in (field or "").split(",") if part.strip()}


@dataclass(frozen=True)
class AnnotatedText:
    """The text to check (`plain`) and where each of its characters sits in the `original` the client
    holds (text and markup together); `None` maps mean plain is the original."""

    plain: str
    original: str
    starts: tuple[int, ...] | None = None  # original index where plain char i begins
    ends: tuple[int, ...] | None = None  # original index just after plain char i

    @classmethod
    def from_text(cls, text: str) -> "AnnotatedText":
        return cls(text, text)

    @classmethod
    def from_data(cls, data: str) -> "AnnotatedText":
        """Parse LanguageTool's `data` parameter: {"annotation": [{"text": ...} or {"markup": ...,
        "interpretAs": ...}]}. Errors say what shape is expected, never what was sent."""
        expected = 'data must be JSON {"annotation": [{"text": "..."}, {"markup": "...", "interpretAs": "..."}]}'
        try:
            pieces = json.loads(data)["annotation"]
        except (ValueError, TypeError, KeyError):
            raise InputError(expected) from None
        if not isinstance(pieces, list):
            raise InputError(expected)
        plain: list[str] = []
        original: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        position = 0
        for piece in pieces:
            if not isinstance(piece, dict) or not all(isinstance(v, str) for v in piece.values()):
                raise InputError(expected)
            if "text" in piece:
                text = piece["text"]
                plain.append(text)
                starts.extend(range(position, position + len(text)))
                ends.extend(range(position + 1, position + len(text) + 1))
            elif "markup" in piece:
                text = piece["markup"]
                spoken = piece.get("interpretAs", "")
                plain.append(spoken)
                starts.extend([position] * len(spoken))
                ends.extend([position + len(text)] * len(spoken))
            else:
                raise InputError(expected)
            original.append(text)
            position += len(text)
        return cls("".join(plain), "".join(original), tuple(starts), tuple(ends))

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Code-point span in `original` of the non-empty plain span [start, end)."""
        if self.starts is None or self.ends is None:
            return start, end
        return self.starts[start], self.ends[end - 1]


class Utf16Offsets:
    """Converts code-point indices of one string to UTF-16 code-unit indices (astral chars count 2)."""

    def __init__(self, text: str):
        self.astral = [i for i, char in enumerate(text) if ord(char) > 0xFFFF]

    def __call__(self, index: int) -> int:
        return index + bisect_left(self.astral, index)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def to_matches(report: Report, annotated: AnnotatedText, picky: bool, rule_url: Callable[[str], str],
               noted: Iterable[str] = ()) -> list[LTMatch]:
    """LanguageTool matches for a report; info-level notes only when the client asks for `picky` or
    names their rule or category (`noted`, from RuleSelection). `rule_url(rule_id)` is the rule's page."""
    to_utf16 = Utf16Offsets(annotated.original)
    noted = frozenset(noted)
    matches = []
    for finding in _shown(report.findings, picky, noted):
        start, end = annotated.original_span(finding.start, finding.end)
        offset = to_utf16(start)
        matches.append(LTMatch(
            message=f"{finding.message}. {finding.suggestion}",
            shortMessage=finding.message,
            # Only a drop-in rewrite (a rounded age, a placeholder): the suggestion itself is advice.
            replacements=[LTReplacement(value=finding.rewrite)] if finding.rewrite else [],
            offset=offset,
            length=to_utf16(end) - offset,
            context=_context(annotated.plain, finding.start, finding.end),
            sentence=_sentence(annotated.plain, finding.start, finding.end),
            rule=LTRule(
                id=finding.rule,
                description=finding.message,
                issueType=ISSUE_TYPES.get(finding.category, "uncategorized"),
                urls=[LTUrl(value=rule_url(finding.rule))],
                category=LTCategory(id=finding.category.upper(),
                                    name=CATEGORY_NAMES.get(finding.category, finding.category)),
            ),
        ))
    return matches


def _shown(findings: Iterable[Finding], picky: bool, noted: frozenset[str]) -> Iterable[Finding]:
    return (f for f in findings if picky or f.severity != "info" or f.rule in noted)


def _context(text: str, start: int, end: int) -> LTContext:
    """Up to 40 characters either side, elided with '...' and on one line, as LanguageTool shows it."""
    left = max(0, start - CONTEXT_CHARS)
    right = min(len(text), end + CONTEXT_CHARS)
    prefix = "..." if left > 0 else ""
    snippet = prefix + text[left:right] + ("..." if right < len(text) else "")
    snippet = snippet.replace("\r", " ").replace("\n", " ")
    before = prefix + text[left:start]
    return LTContext(text=snippet, offset=utf16_len(before), length=utf16_len(text[start:end]))


def _sentence(text: str, start: int, end: int) -> str:
    """The sentence around the span [start, end); a break inside the span does not count."""
    first, last = 0, len(text)
    for boundary in _SENTENCE_BREAK.finditer(text):
        if boundary.end() <= start:
            first = boundary.end()
        elif boundary.start() >= end:
            last = boundary.start()
            break
    return text[first:last].strip()
