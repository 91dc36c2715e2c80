"""Token patterns with bounded work: every pattern becomes a few fixed-length alternatives at load.

spaCy's Matcher is fast on fixed-length patterns and slow on variable-length ones, in two ways measured
on 2,000 tokens that all match: `+` and `*` report every (start, end) pair, so a run of n names gives
n²/2 matches ("Linda " * 8,333 took 12.6 GB), and each optional copy doubles the partial matches it
tracks, so `{0,8}` twice took 36 s. Writing the same pattern as the list of fixed-length sequences it
can match gives the same set of matches, with work proportional to the draft's length times the
alternatives' total length. So at load:

- `*` means `{0,MAX_REPEAT}` and `+` means `{1,MAX_REPEAT}`: no pattern matches an unbounded stretch;
- a count `{n,m}` may not exceed MAX_REPEAT;
- the pattern is expanded into its fixed-length alternatives (identical ones once), at most
  MAX_ALTERNATIVES of them. A pattern that would need more is refused with its rule and field.

`!` (exactly one token that does not match) is already fixed-length and stays as it is.
"""

from __future__ import annotations

import json
import re
from itertools import product
from typing import Any, Mapping, Sequence

MAX_REPEAT = 4
MAX_ALTERNATIVES = 32
_COUNT = re.compile(r"^\{(\d*)(,?)(\d*)\}$")

TokenSpec = Mapping[str, Any]


class PatternBoundError(ValueError):
    """A token pattern that cannot be bounded; the message says which token and why."""


def fixed_alternatives(pattern: Sequence[TokenSpec]) -> list[list[dict[str, Any]]]:
    """The fixed-length token sequences `pattern` can match, in a stable order, without repeats."""
    choices: list[list[list[dict[str, Any]]]] = []
    for position, spec in enumerate(pattern, start=1):
        op = next((value for key, value in spec.items() if str(key).upper() == "OP"), None)
        low, high = _repeats(op, position)
        token = {key: value for key, value in spec.items() if str(key).upper() != "OP"}
        if op == "!":
            token["OP"] = "!"
        choices.append([[token] * count for count in range(low, high + 1)])
    combinations = 1
    for options in choices:
        combinations *= len(options)
    seen: dict[str, list[dict[str, Any]]] = {}
    if combinations <= MAX_ALTERNATIVES ** 2:  # identical ones are merged, so allow some slack first
        for combination in product(*choices):
            alternative = [token for run in combination for token in run]
            if alternative:
                seen.setdefault(json.dumps(alternative, sort_keys=True, default=str), alternative)
        if not seen:
            raise PatternBoundError("the pattern can match zero tokens")
    if not seen or len(seen) > MAX_ALTERNATIVES:
        raise PatternBoundError(
            f"the pattern's optional and repeated tokens allow more than {MAX_ALTERNATIVES} different "
            "sequences; use fewer optional tokens or smaller counts")
    return list(seen.values())


def _repeats(op: Any, position: int) -> tuple[int, int]:
    """How many copies of a token an OP allows, as (least, most)."""
    if op is None or op == "!":
        return 1, 1
    if op == "?":
        return 0, 1
    if op == "*":
        return 0, MAX_REPEAT
    if op == "+":
        return 1, MAX_REPEAT
    counted = _COUNT.match(op) if isinstance(op, str) else None
    if counted is None or (counted.group(1) == "" and counted.group(3) == ""):
        raise PatternBoundError(f"token {position}: OP must be !, ?, *, + or a count like {{2}} or {{1,3}}")
    low = int(counted.group(1) or 0)
    high = int(counted.group(3)) if counted.group(3) else (MAX_REPEAT if counted.group(2) else low)
    if high > MAX_REPEAT or low > high:
        raise PatternBoundError(f"token {position}: counts go up to {MAX_REPEAT} (got OP {op})")
    return low, high
