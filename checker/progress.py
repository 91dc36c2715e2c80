"""`scan`'s progress line on a terminal, with an ETA that holds when workers are used.

click's bar estimates the time left from the time since the start divided by the drafts done. With
workers, the first results arrive only after every worker has loaded its model, and then 64 at a time,
so that estimate starts at hours for a job of seconds ("02:51:16" for ten seconds). Here the rate is
measured from the first result on, over at least a few seconds of results, and no ETA is shown before
there is one to give.
"""

from __future__ import annotations

import time
from typing import Callable, TextIO

# Seconds of results needed before the rate is trusted (a few chunks from every worker).
MIN_RATE_SECONDS = 2.0
REDRAW_SECONDS = 0.25


class EtaEstimator:
    """Drafts per second since the first result, and the seconds left at that rate."""

    def __init__(self, total: int | None, clock: Callable[[], float] = time.monotonic):
        self.total = total
        self.clock = clock
        self.started = clock()
        self.first: tuple[float, int] | None = None  # (time, count) when the first result came
        self.done = 0

    def advance(self, count: int = 1) -> None:
        self.done += count
        if self.first is None:
            self.first = (self.clock(), self.done)

    def rate(self) -> float | None:
        if self.first is None:
            return None
        since, at = self.first
        elapsed = self.clock() - since
        if elapsed < MIN_RATE_SECONDS or self.done <= at:
            return None
        return (self.done - at) / elapsed

    def seconds_left(self) -> float | None:
        rate = self.rate()
        if rate is None or self.total is None:
            return None
        return max(self.total - self.done, 0) / rate


def format_seconds(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{seconds:02}" if hours else f"{minutes}:{seconds:02}"


class ProgressLine:
    """`checking 640/2000 (32%), 0:07 left` on one terminal line, redrawn at most four times a second."""

    def __init__(self, stream: TextIO, total: int | None, label: str = "checking",
                 clock: Callable[[], float] = time.monotonic):
        self.stream = stream
        self.label = label
        self.eta = EtaEstimator(total, clock)
        self.clock = clock
        self.drawn_at = float("-inf")
        self.width = 0

    def advance(self, count: int = 1) -> None:
        self.eta.advance(count)
        if self.clock() - self.drawn_at >= REDRAW_SECONDS:
            self.draw()

    def text(self) -> str:
        total, done = self.eta.total, self.eta.done
        if total:
            line = f"{self.label} {done}/{total} ({100 * done // total}%)"
        else:
            line = f"{self.label} {done}"
        if done == 0:
            return f"{self.label}: starting"
        left = self.eta.seconds_left()
        return line + (f", {format_seconds(left)} left" if left is not None else "")

    def draw(self) -> None:
        text = self.text()
        self.stream.write("\r" + text.ljust(self.width))
        self.stream.flush()
        self.width = len(text)
        self.drawn_at = self.clock()

    def close(self) -> None:
        if self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
