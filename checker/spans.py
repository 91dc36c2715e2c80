"""A fixed set of spans, asked whether a span overlaps one of them or lies within one: one bisection.

Several steps ask this of every match (is it inside an allowed word? does a lexicon occur in this
sentence? was this stretch redacted already?); scanning the spans each time would cost the number of
matches times the number of spans on a long draft.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import Iterable


class SpanIndex:
    """Spans sorted by start, with the furthest end reached by any span starting at or before each."""

    def __init__(self, spans: Iterable[tuple[int, int]]):
        ordered = sorted(spans)
        self.starts = [start for start, _ in ordered]
        self.reach: list[int] = []
        furthest = -1
        for _, end in ordered:
            furthest = max(furthest, end)
            self.reach.append(furthest)

    def overlaps(self, start: int, end: int) -> bool:
        """Some span shares at least one position with [start, end)."""
        before = bisect_left(self.starts, end)  # spans that start before `end`
        return before > 0 and self.reach[before - 1] > start

    def contains(self, start: int, end: int) -> bool:
        """Some span starts at or before `start` and ends at or after `end`."""
        before = bisect_right(self.starts, start)
        return before > 0 and self.reach[before - 1] >= end

    def starts_within(self, start: int, end: int) -> bool:
        """Some span starts in [start, end)."""
        at = bisect_left(self.starts, start)
        return at < len(self.starts) and self.starts[at] < end
