"""Inline markers: a blog post turns rules off and on for a stretch of itself, in HTML comments.

    <!-- postcheck-disable age-exact, relative-time -->
    ... a passage where those two rules are off ...
    <!-- postcheck-enable age-exact -->
    <!-- postcheck-disable -->      every rule off, until
    <!-- postcheck-enable -->       every rule back on

As with markdownlint's and Vale's comments, a marker applies from where it stands to the next marker
that undoes it (or the end of the draft), and comments never show on the published page. The filter
runs in the library, so the CLI, `scan` and the HTTP service honour the same markers. A marker naming
an unknown rule id is an InputError (the message gives the line, never the marker's text).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from typing import Collection

from checker.errors import InputError
from checker.markup import comment_spans

_MARKER = re.compile(r"^\s*postcheck-(disable|enable)(?:\s+(.*?))?\s*$", re.DOTALL)
ALL = "*"


@dataclass(frozen=True)
class Markers:
    """Offsets where the set of disabled rules changes, and that set from each offset on."""

    offsets: tuple[int, ...] = ()
    disabled: tuple[frozenset[str], ...] = ()

    def allows(self, rule_id: str, offset: int) -> bool:
        """Whether a finding of `rule_id` starting at `offset` stands."""
        at = bisect_right(self.offsets, offset) - 1
        if at < 0:
            return True
        off = self.disabled[at]
        if ALL in off:
            return f"!{rule_id}" in off
        return rule_id not in off


NO_MARKERS = Markers()


def read_markers(text: str, known_ids: Collection[str]) -> Markers:
    """The markers in a draft; a draft without any costs one `str.find`."""
    if "postcheck-" not in text:
        return NO_MARKERS
    offsets: list[int] = []
    states: list[frozenset[str]] = []
    disabled: set[str] = set()
    for start, end, inner in comment_spans(text):
        match = _MARKER.match(inner)
        if not match:
            continue
        action, listed = match.group(1), match.group(2)
        rule_ids = {part for part in re.split(r"[\s,]+", listed or "") if part}
        unknown = rule_ids - set(known_ids)
        if unknown:
            line = text.count("\n", 0, start) + 1
            raise InputError(f"line {line}: postcheck-{action} names {len(unknown)} unknown rule id(s); "
                             "run 'postcheck rules' to list them")
        # After a bare disable the set is {ALL} plus "!id" for each rule enabled again since.
        if not rule_ids:
            disabled = {ALL} if action == "disable" else set()
        elif ALL in disabled:
            exceptions = {f"!{rule_id}" for rule_id in rule_ids}
            disabled = disabled - exceptions if action == "disable" else disabled | exceptions
        else:
            disabled = disabled | rule_ids if action == "disable" else disabled - rule_ids
        offsets.append(end)
        states.append(frozenset(disabled))
    return Markers(tuple(offsets), tuple(states)) if offsets else NO_MARKERS
