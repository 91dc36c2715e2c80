"""Time every hostile draft and pack in bench/hostile.py against the documented limits.

    python -m bench.adversarial            # every shape at tweet size and at the 50,000-character limit
    python -m bench.adversarial --quick    # the limit only

Prints each case's time (the slower of two runs), the limit it must meet (1 s at tweet size, 10 s at
the limit), PASS or MISS, and the process's peak memory. Run it on a quiet machine: the limits are
promises about this 2-core machine, not about one shared with other work.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from bench.hostile import LIMIT, PACK_RULE, PACKS, SHAPES, TWEET
from checker import Checker
from checker.errors import InputError, RuleFileError

SECONDS_AT = {TWEET: 1.0, LIMIT: 10.0}


def timed(checker: Checker, text: str) -> tuple[float, str]:
    worst, outcome = 0.0, ""
    for _ in range(2):
        started = time.perf_counter()
        try:
            report = checker.check(text)
            outcome = f"{len(report.findings)} findings"
        except InputError:
            outcome = "refused (too many tokens)"
        worst = max(worst, time.perf_counter() - started)
    return worst, outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the 50,000-character size only")
    args = parser.parse_args(argv)
    sizes = [LIMIT] if args.quick else [TWEET, LIMIT]
    checker = Checker(use_user_config=False)
    misses = 0
    print(f"{'case':44s} {'chars':>6s} {'seconds':>8s} {'limit':>6s}  result")
    for size in sizes:
        for name, shape in SHAPES.items():
            seconds, outcome = timed(checker, shape(size))
            ok = seconds <= SECONDS_AT[size]
            misses += not ok
            print(f"{name:44s} {size:6d} {seconds:8.2f} {SECONDS_AT[size]:6.0f}  {'PASS' if ok else 'MISS'}  {outcome}", flush=True)
    with tempfile.TemporaryDirectory() as directory:
        for name, (patterns, draft) in PACKS.items():
            Path(directory, "pack.yaml").write_text(PACK_RULE.format(patterns=patterns), encoding="utf-8")
            try:
                seconds, outcome = timed(Checker(rule_dirs=[directory], use_user_config=False), draft)
            except RuleFileError:
                seconds, outcome = 0.0, "refused at load"
            ok = seconds <= SECONDS_AT[LIMIT]
            misses += not ok
            print(f"{name[:44]:44s} {len(draft):6d} {seconds:8.2f} {SECONDS_AT[LIMIT]:6.0f}  {'PASS' if ok else 'MISS'}  {outcome}", flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {peak:.0f} MB; {misses} over their limit")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
