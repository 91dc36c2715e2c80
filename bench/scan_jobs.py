"""`postcheck scan` wall time at --jobs 1, 2 and auto, on this machine as it is and with one core kept busy.

    python -m bench.scan_jobs                  # 2,000 and 200 synthetic drafts, 3 rounds: ~15 min on 2 cores
    python -m bench.scan_jobs --drafts 2000 --rounds 1

The default number of workers (`--jobs auto`, checker.parallel.default_jobs) was chosen from this
table: it must never make a scan slower than one process on the same machine. "one core busy" runs
`yes > /dev/null` beside the scans (started and stopped here) and waits for the load average to see
it, as it would on a laptop compiling something. Runs are interleaved (1, 2, auto, 1, 2, auto, ...),
so a change in the machine's other load hits every column alike; each cell is the median. The drafts
are synthetic (bench/drafts.py), never the evaluation corpus.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.drafts import TWEET, drafts

ROOT = Path(__file__).resolve().parents[1]
JOBS = ("1", "2", "auto")
LOAD_SETTLE_SECONDS = 65  # the 1-minute load average reaches ~2/3 of a new steady load in a minute


def postcheck() -> list[str]:
    script = Path(sys.executable).with_name("postcheck")
    return [str(script)] if script.exists() else [sys.executable, "-m", "checker.cli"]


def write_archive(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for number, text in enumerate(drafts(TWEET, count, seed=11)):
            handle.write(json.dumps({"id": number, "text": text}) + "\n")


def scan_seconds(archive: Path, jobs: str) -> float:
    command = postcheck() + ["scan", "--format", "jsonl", "--fail-on", "never", "--isolated", "--jobs", jobs, str(archive)]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise RuntimeError(f"scan --jobs {jobs} exited {done.returncode}: {done.stderr.decode()[-300:]}")
    return elapsed


def auto_resolves_to(count: int) -> int:
    probe = f"from checker.parallel import default_jobs; print(default_jobs(drafts={count}))"
    return int(subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True).stdout)


def measure(counts: list[int], rounds: int, conditions: list[str]) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        archives = {count: Path(tmp, f"archive-{count}.jsonl") for count in counts}
        for count, path in archives.items():
            write_archive(path, count)
        for condition in conditions:
            busy = None
            if condition == "one core busy":
                busy = subprocess.Popen(["yes"], stdout=subprocess.DEVNULL)
                print(f"  {condition}: waiting {LOAD_SETTLE_SECONDS} s for the load average", file=sys.stderr)
                time.sleep(LOAD_SETTLE_SECONDS)
            try:
                for count, path in archives.items():
                    load_before = os.getloadavg()[0]
                    auto = auto_resolves_to(count)
                    times: dict[str, list[float]] = {jobs: [] for jobs in JOBS}
                    for number in range(rounds):
                        for jobs in JOBS:
                            times[jobs].append(scan_seconds(path, jobs))
                            print(f"  {condition}, {count} drafts, --jobs {jobs}, round {number + 1}: "
                                  f"{times[jobs][-1]:.1f} s", file=sys.stderr)
                    rows.append({"condition": condition, "drafts": count, "load": load_before, "auto_jobs": auto,
                                 **{jobs: statistics.median(values) for jobs, values in times.items()},
                                 "runs": times})
            finally:
                if busy is not None:
                    busy.terminate()
                    busy.wait()
    return rows


def render(rows: list[dict]) -> str:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    lines = [f"postcheck scan, tweet-sized synthetic drafts, {usable} usable CPUs; median wall seconds (drafts/s)",
             f"{'condition':<14} {'drafts':>6} {'load':>5}  {'--jobs 1':>14}  {'--jobs 2':>14}  {'auto':>19}  {'auto vs 1':>9}"]
    for row in rows:
        one, two, auto = (f"{row[j]:5.1f} s ({row['drafts'] / row[j]:5.1f})" for j in JOBS)
        lines.append(f"{row['condition']:<14} {row['drafts']:>6} {row['load']:>5.1f}  {one:>14}  {two:>14}  "
                     f"{auto + ' =' + str(row['auto_jobs']):>19}  {row['1'] / row['auto']:>8.2f}x")
    lines.append("'=N': the workers auto chose; 'auto vs 1': how many times faster than one process the default is "
                 "(the target is at least 1.00x); load: the 1-minute load average before the row")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drafts", type=int, nargs="+", default=[2000, 200])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--conditions", nargs="+", default=["as it is", "one core busy"],
                        choices=["as it is", "one core busy"])
    parser.add_argument("--json", type=Path, help="Also write the figures here.")
    args = parser.parse_args(argv)
    rows = measure(args.drafts, args.rounds, args.conditions)
    print(render(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
