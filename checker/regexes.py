"""Rule regexes run on RE2: time linear in the draft's length for any pattern a pack can write.

Rule packs come from organisations as well as from us, and a draft is checked while someone types.
Python's backtracking engine can take exponential time (`(a|aa)+$` on 40 characters took 14 s), and no
static check catches every such pattern. RE2 (google-re2, from PyPI) guarantees linear time by design,
so every rule regex and every REGEX test inside a token pattern is compiled with it at load, and a
pattern RE2 refuses is a rule-file error naming the file, the rule and the field.

RE2 has no lookarounds or back-references. A rule marks the part of a match to flag with a group named
`flag`; the rest of the pattern is context that must be there but is not flagged:

    \\b[Pp]atient (?P<flag>[A-Z][a-z]+)        flags "Jones" in "patient Jones"
    (?:^|[^\\d-])(?P<flag>\\d{3}-\\d{4})(?:$|[^\\d-])

After a match, the next search starts where the flagged part ended, so context characters consumed
after one match can still serve the next ("555-1234 555-9999" gives both numbers). What must *not*
follow a match, where it is more than a character class, is its own pattern, tried at the end of the
flagged part: `{pattern: "\\baged [1-9]\\d\\b", not_followed_by: "[ \\t]*(?:%|mg|minutes)"}`.

RE2's `\\w`, `\\d`, `\\s` and `\\b` are ASCII-only; `\\pL` and `[^\\W]`-style classes are Unicode.
Drafts are searched as UTF-8 bytes, encoded once per draft; offsets come back as Python string offsets.
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping, Sequence

import re2
from spacy.tokens import Token

from checker.fast.memo import BoundedMemo

FLAG_GROUP = "flag"
MAX_PATTERN_LENGTH = 1200
# RE2 gives up on a pattern whose compiled program needs more than this (a pack's 20,000-way
# alternation, say) instead of using unbounded memory; the rule file is then refused at load.
MAX_PROGRAM_BYTES = 8 << 20
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


class RegexError(ValueError):
    """A pattern RE2 cannot use; the message is one line for the rule-file error."""


def _options(case_sensitive: bool) -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # RE2 would print the pattern to stderr; the error says what is wrong
    options.max_mem = MAX_PROGRAM_BYTES
    options.case_sensitive = case_sensitive
    return options


def compile_re2(pattern: str, case_sensitive: bool = True):
    """An RE2 object for `pattern`, or RegexError with RE2's reason."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise RegexError(f"pattern longer than {MAX_PATTERN_LENGTH} characters")
    try:
        return re2.compile(pattern, _options(case_sensitive))
    except re2.error as error:
        reason = error.args[0].decode("utf-8", "replace") if error.args and isinstance(error.args[0], bytes) else str(error)
        raise RegexError(f"not a pattern RE2 accepts ({reason}); see the RE2 syntax (no lookarounds or "
                         f"back-references; mark the part to flag with (?P<{FLAG_GROUP}>...))") from None


@dataclass(frozen=True)
class RuleRegex:
    """One rule regex: its RE2 program, which group holds the part to flag (0: the whole match), and
    what may not follow the flagged part."""

    pattern: str
    program: object
    group: int
    not_followed_by: object | None = None

    @classmethod
    def compile(cls, pattern: str, case_sensitive: bool, not_followed_by: str | None = None) -> "RuleRegex":
        program = compile_re2(pattern, case_sensitive)
        after = compile_re2(not_followed_by, case_sensitive) if not_followed_by else None
        return cls(pattern, program, program.groupindex.get(FLAG_GROUP, 0), after)

    def spans(self, draft: "EncodedDraft") -> Iterator[tuple[int, int]]:
        """(start, end) string offsets of each flagged part, left to right, never overlapping."""
        data, position = draft.data, 0
        while position <= len(data):
            match = self.program.search(data, position)
            if match is None:
                return
            start, end = match.span(self.group)
            # A flag group inside an alternative that did not take part flags nothing.
            if start >= 0 and (self.not_followed_by is None or self.not_followed_by.match(data, end) is None):
                yield draft.char_offset(start), draft.char_offset(end)
            # Resume after the flagged part, so context consumed after it can start the next match.
            position = max(end if start >= 0 else match.end(), match.start() + 1)


@dataclass
class EncodedDraft:
    """A draft as UTF-8 bytes, encoded once, with byte offsets mapped back to string offsets."""

    text: str
    data: bytes = b""
    _byte_starts: list[int] = field(default_factory=list)  # byte offset of each non-ASCII character
    _extra: list[int] = field(default_factory=list)  # extra bytes up to and including that character

    def __post_init__(self) -> None:
        self.data = self.text.encode("utf-8")
        if len(self.data) != len(self.text):
            extra = 0
            for match in _NON_ASCII.finditer(self.text):
                self._byte_starts.append(match.start() + extra)
                extra += len(match.group().encode("utf-8")) - 1
                self._extra.append(extra)

    def char_offset(self, byte_offset: int) -> int:
        before = bisect_right(self._byte_starts, byte_offset - 1)  # characters that start before it
        return byte_offset - (self._extra[before - 1] if before else 0)


# Token attributes a REGEX test may read, as the Token property that holds each one's text.
TOKEN_TEXT_ATTRIBUTES = {
    "ORTH": "text", "TEXT": "text", "LOWER": "lower_", "NORM": "norm_", "LEMMA": "lemma_", "SHAPE": "shape_",
    "PREFIX": "prefix_", "SUFFIX": "suffix_", "TAG": "tag_", "POS": "pos_", "DEP": "dep_", "ENT_TYPE": "ent_type_",
}


def token_regex_problems(pattern: Sequence[Mapping[str, Any]]) -> str | None:
    """Why a token pattern's REGEX tests cannot run on RE2 (checked at load), or None."""
    for position, spec in enumerate(pattern, start=1):
        for attribute, value in spec.items():
            if isinstance(value, dict) and "REGEX" in value:
                if str(attribute).upper() not in TOKEN_TEXT_ATTRIBUTES:
                    return f"token {position}: REGEX works on {', '.join(TOKEN_TEXT_ATTRIBUTES)}, not {attribute}"
                if not isinstance(value["REGEX"], str):
                    return f"token {position}: REGEX must be a pattern"
                try:
                    compile_re2(value["REGEX"])
                except RegexError as error:
                    return f"token {position}: {error}"
    return None


def token_regexes_on_re2(pattern: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The pattern with each REGEX test replaced by a custom token attribute that RE2 answers.

    spaCy would run REGEX with Python's backtracking engine; a Token extension (registered once per
    distinct attribute and pattern, so equal tests share it) keeps every test on RE2.
    """
    rewritten = []
    for spec in pattern:
        spec = dict(spec)
        for attribute, value in list(spec.items()):
            if isinstance(value, dict) and "REGEX" in value:
                rest = {test: argument for test, argument in value.items() if test != "REGEX"}
                if rest:
                    spec[attribute] = rest
                else:
                    del spec[attribute]
                name = _token_extension(str(attribute).upper(), value["REGEX"])
                spec["_"] = {**spec.get("_", {}), name: True}
        rewritten.append(spec)
    return rewritten


def _token_extension(attribute: str, pattern: str) -> str:
    name = "postcheck_re2_" + hashlib.sha1(f"{attribute}\0{pattern}".encode()).hexdigest()[:16]
    if not Token.has_extension(name):
        test, field_name = TokenRegex(pattern), TOKEN_TEXT_ATTRIBUTES[attribute]
        Token.set_extension(name, getter=lambda token: test(getattr(token, field_name)))
    return name


class TokenRegex:
    """A REGEX test of a token pattern, answered by RE2 (and remembered per distinct string)."""

    def __init__(self, pattern: str):
        self.program = compile_re2(pattern)
        self._answers: BoundedMemo[str, bool] = BoundedMemo()

    def __call__(self, value: str) -> bool:
        return self._answers.get(value, lambda: self.program.search(value) is not None)
