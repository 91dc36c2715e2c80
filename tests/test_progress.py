"""`scan`'s progress line: the time left is measured from the first result, so worker start-up (seconds
of loading models before anything comes back) never shows up as hours to go."""

from __future__ import annotations

import io

from checker.progress import MIN_RATE_SECONDS, EtaEstimator, ProgressLine, format_seconds


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_start_up_does_not_count_against_the_rate():
    clock = Clock()
    eta = EtaEstimator(total=2000, clock=clock)
    clock.now += 8.0  # the workers load their models
    eta.advance(64)   # then results come a chunk at a time
    assert eta.seconds_left() is None  # no estimate from one instant
    for _ in range(10):
        clock.now += 0.5
        eta.advance(64)
    # 640 drafts in 5 s since the first chunk: 128 a second, so 1296 left take about 10 s (not hours)
    assert abs(eta.seconds_left() - (2000 - 704) / 128) < 0.01


def test_no_estimate_until_a_few_seconds_of_results_and_none_without_a_total():
    clock = Clock()
    eta = EtaEstimator(total=None, clock=clock)
    eta.advance()
    clock.now += MIN_RATE_SECONDS + 1
    eta.advance(50)
    assert eta.rate() is not None and eta.seconds_left() is None


def test_the_line_is_redrawn_in_place_and_cleared_at_the_end():
    clock, stream = Clock(), io.StringIO()
    line = ProgressLine(stream, total=10, clock=clock)
    assert line.text() == "checking: starting"
    line.advance()
    clock.now += 3
    line.advance(4)
    assert line.text().startswith("checking 5/10 (50%), 0:0")
    line.close()
    assert stream.getvalue().startswith("\rchecking 1/10 (10%)") and stream.getvalue().endswith("\r")


def test_seconds_read_as_minutes_and_hours():
    assert (format_seconds(9), format_seconds(71), format_seconds(3725)) == ("0:09", "1:11", "1:02:05")
