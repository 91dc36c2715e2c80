"""Reject rule regexes that can backtrack catastrophically.

Rule packs come from organisations, not only from us, and a draft is checked while someone types: one
regex like `(\\w+\\s?)+$` can hang the service on a long paste. The classic cause of exponential
backtracking is an unbounded repeat nested inside another unbounded repeat, so that is refused at load
time, along with patterns too long to review and back-references (which no rule needs).
"""

from __future__ import annotations

import re
import re._constants as sre_constants
import re._parser as sre_parse

MAX_PATTERN_LENGTH = 1200
_REPEATS = {sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, sre_constants.POSSESSIVE_REPEAT}
_UNBOUNDED = sre_constants.MAXREPEAT


def check_regex_is_linear(pattern: str) -> str | None:
    """Return a one-line reason the pattern is unsafe or invalid, or None when it may be used."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        return f"pattern longer than {MAX_PATTERN_LENGTH} characters"
    try:
        re.compile(pattern)
        parsed = sre_parse.parse(pattern)
    except re.error as error:
        return f"invalid regex ({error.msg} at position {error.pos})"
    return _walk(parsed, inside_unbounded=False)


def _walk(items, inside_unbounded: bool) -> str | None:
    for op, arg in items:
        if op in (sre_constants.GROUPREF, sre_constants.GROUPREF_EXISTS):
            return "back-references are not allowed"
        if op in _REPEATS:
            low, high, sub = arg
            unbounded = high == _UNBOUNDED or high > 50
            if unbounded and inside_unbounded and op != sre_constants.POSSESSIVE_REPEAT:
                return "nested unbounded repeats can backtrack exponentially; bound the inner one"
            problem = _walk(sub, inside_unbounded or unbounded)
        elif op == sre_constants.SUBPATTERN:
            problem = _walk(arg[-1], inside_unbounded)
        elif op == sre_constants.ATOMIC_GROUP:
            problem = _walk(arg, False)
        elif op == sre_constants.BRANCH:
            problem = next((p for p in (_walk(b, inside_unbounded) for b in arg[1]) if p), None)
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            problem = _walk(arg[1], inside_unbounded)
        else:
            problem = None
        if problem:
            return problem
    return None
