"""Speed benchmark: latency, batch throughput, start-up, peak memory, cost against length, scan on all cores.

    .venv/bin/python -m bench.speed              # the full run, about four minutes on 2 cores
    .venv/bin/python -m bench.speed --quick      # a 90-second smoke run (fewer calls, looser figures)
    .venv/bin/python -m bench.speed --json out.json --long-calls 500

Run it from the repository root. Everything is measured in one run, so the ratios hold on a noisy
machine. Systems compared with each other take turns in short blocks of calls (in rotating order), so
background noise hits them alike while each still runs warm, as it would in a service. Whole processes
(start-up, peak memory, scan) are measured first, while this process is small: on Linux a child's
ru_maxrss starts from its parent's size at fork. The baselines run a stock copy of the same spaCy
model: plain Presidio (`AnalyzerEngine`, default recognizers, parsing the text itself) and the bare
`nlp(text)`, the floor no spaCy-based checker can beat. Drafts are synthetic (bench/drafts.py), never
the evaluation corpus.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from bench.drafts import SIZES, TWEET, drafts, jsonl_lines

ROOT = Path(__file__).resolve().parents[1]
MB = 1024  # ru_maxrss is in KiB on Linux

# A fresh process that loads the checker, checks drafts up to 10k characters and a batch, reports its
# peak resident memory, then checks one draft at the default size limit and reports it again.
MEMORY_PROBE = """
import resource
from bench.drafts import drafts
from checker import Checker
from checker.pipeline import DEFAULT_MAX_CHARS
checker = Checker()
for chars in (280, 1_300, 10_000):
    checker.check(drafts(chars, 1, seed=99)[0])
list(checker.check_many(drafts(280, 300, seed=99)))
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
checker.check(drafts(DEFAULT_MAX_CHARS, 1, seed=99)[0])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


@dataclass
class Plan:
    """How much to measure; the defaults are the full run."""

    calls: int = 500
    long_calls: int = 60  # 500 would take 8 minutes on 2 cores: --long-calls 500 when there is time
    batch_drafts: int = 250
    startup_runs: int = 5
    length_reps: dict[int, int] = field(default_factory=lambda: {1_000: 20, 10_000: 4, 100_000: 2})
    scan_drafts: int = 1_200
    scan_rounds: int = 2

    @classmethod
    def quick(cls) -> "Plan":
        return cls(calls=60, long_calls=10, batch_drafts=100, startup_runs=2,
                   length_reps={1_000: 5, 10_000: 2, 100_000: 1}, scan_drafts=300, scan_rounds=1)


def progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# -- in-process measurements ----------------------------------------------------------------------

def interleaved_latency(
    systems: dict[str, Callable[[str], object]], texts: list[str], calls: int, block: int = 20
) -> dict[str, list[float]]:
    """Seconds per call for each system on the same drafts, in turns of `block` calls (first place rotates)."""
    names = list(systems)
    for name in names:
        systems[name](texts[0])  # warm caches and lazy initialisation
    times: dict[str, list[float]] = {name: [] for name in names}
    for turn, first in enumerate(range(0, calls, block)):
        shift = turn % len(names)
        for name in names[shift:] + names[:shift]:
            for call in range(first, min(first + block, calls)):
                text = texts[call % len(texts)]
                start = time.perf_counter()
                systems[name](text)
                times[name].append(time.perf_counter() - start)
    return times


def batch_throughput(checker, nlp, texts: list[str], rounds: int = 2) -> dict[str, float]:
    """Drafts per second, best round of each: a loop of `check` against `check_many`, and the same for
    the bare model (a loop of `nlp(text)` against `nlp.pipe`), which bounds what batching can give."""
    runs = {
        "loop": lambda: [checker.check(t) for t in texts],
        "batch": lambda: list(checker.check_many(texts)),
        "spacy_loop": lambda: [nlp(t) for t in texts],
        "spacy_batch": lambda: list(nlp.pipe(texts, batch_size=64)),
    }
    best = dict.fromkeys(runs, 0.0)
    for _ in range(rounds):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            best[name] = max(best[name], len(texts) / (time.perf_counter() - start))
    return best


def cost_against_length(checker, nlp, reps: dict[int, int]) -> dict[int, dict[str, float]]:
    """Median ms per draft of each length: the whole check, the bare spaCy pass, and postcheck's own work.

    Own work is everything after the parse (detectors, context, report) timed on a parse made
    beforehand, so its growth with length is not hidden inside the much larger parse.
    """
    out: dict[int, dict[str, float]] = {}
    for chars, count in reps.items():
        texts = drafts(chars, count, seed=5)
        times = interleaved_latency({"postcheck": checker.check, "spacy": nlp}, texts, count, block=1)
        own = []
        real_nlp = checker.nlp
        try:
            for text in texts:
                parse = real_nlp(text)
                checker.nlp = lambda _, done=parse: done  # check() now times only the work after the parse
                start = time.perf_counter()
                checker.check(text)
                own.append(time.perf_counter() - start)
        finally:
            checker.nlp = real_nlp
        out[chars] = {name: statistics.median(values) * 1000 for name, values in times.items()}
        out[chars]["own"] = statistics.median(own) * 1000
        out[chars]["chars"] = statistics.mean(len(t) for t in texts)
    return out


# -- whole processes ------------------------------------------------------------------------------

def run_process(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak resident MB of one process (and of the workers it waited for)."""
    with tempfile.TemporaryFile() as stderr:
        start = time.perf_counter()
        child = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr)
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode not in (0, 1):  # 1 is postcheck's "flagged"
            stderr.seek(0)
            last = stderr.read().decode(errors="replace").strip().splitlines()[-1:]
            raise RuntimeError(f"{' '.join(command[:3])} ... exited {child.returncode}: {last}")
    return elapsed, usage.ru_maxrss / MB


def postcheck_command() -> list[str]:
    script = Path(sys.executable).with_name("postcheck")
    return [str(script)] if script.exists() else [sys.executable, "-m", "checker.cli"]


def startup(model: str, runs: int) -> dict[str, dict[str, float]]:
    """A whole one-draft `postcheck check` process against one that only imports spaCy and loads the model."""
    tweet = drafts(TWEET, 1, seed=42)[0]
    commands = {
        "postcheck check --text": postcheck_command() + ["check", "--text", tweet, "--fail-on", "never"],
        "import spacy + load": [sys.executable, "-c", f"import spacy; spacy.load({model!r})"],
    }
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            samples[name].append(run_process(command))
    return {
        name: {"seconds": statistics.median(s for s, _ in runs_), "peak_mb": max(m for _, m in runs_)}
        for name, runs_ in samples.items()
    }


def peak_memory() -> dict[str, float]:
    """Peak MB of a fresh checker process: with everyday drafts, then after one at the size limit."""
    result = subprocess.run([sys.executable, "-c", MEMORY_PROBE], cwd=ROOT, capture_output=True, text=True, check=True)
    everyday, at_limit = (int(value) / MB for value in result.stdout.split()[-2:])
    return {"everyday": everyday, "at_limit": at_limit}


def scan_jobs(count: int, job_options: tuple[str | None, ...], rounds: int = 2) -> dict[str, dict[str, float]]:
    """`postcheck scan` over a generated archive of tweet-sized drafts, for each entry of `job_options`.

    An entry is a `--jobs` value, or None for no `--jobs` option at all (the default users get, auto),
    reported as "default". Drafts per second after start-up come from the difference between a full and
    a one-draft scan, so loading the model in each worker does not hide the throughput. Each scan is the
    fastest of `rounds`: on a small VM, starting two workers now and then takes seconds longer, and one
    slow start would otherwise decide the figure.
    """
    out: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        archive, single = Path(tmp, "archive.jsonl"), Path(tmp, "one.jsonl")
        with archive.open("w", encoding="utf-8") as handle:
            for line in jsonl_lines(count):
                handle.write(line + "\n")
        single.write_text(next(jsonl_lines(1)) + "\n", encoding="utf-8")
        for jobs in job_options:
            command = postcheck_command() + ["scan", "--format", "jsonl", "--fail-on", "never"]
            command += ["--jobs", jobs] if jobs else []
            empty_seconds = min(run_process(command + [str(single)])[0] for _ in range(rounds))
            seconds, peak = min(run_process(command + [str(archive)]) for _ in range(rounds))
            out[jobs or "default"] = {
                "seconds": seconds,
                "drafts_per_s": count / seconds,
                "steady_drafts_per_s": (count - 1) / max(seconds - empty_seconds, 1e-9),
                "peak_mb": peak,
            }
    return out


# -- the run --------------------------------------------------------------------------------------

def measure(plan: Plan) -> dict:
    from checker.model import resolve_model_name
    from checker.parallel import default_jobs

    model = resolve_model_name()
    results: dict = {}
    progress(f"start-up: {plan.startup_runs} processes of each kind")
    results["startup"] = startup(model, plan.startup_runs)
    progress("peak memory of a fresh checker process")
    results["peak_mb"] = peak_memory()
    results["scan_default_jobs"] = default_jobs()  # what the scan children's auto resolves to: same CPUs
    # 1 and 2 jobs, and the default; where the default is 2 jobs, it is the 2-job run.
    options = ("1", None) if results["scan_default_jobs"] == 2 else ("1", "2", None)
    progress(f"postcheck scan --jobs 1 and 2 and the default (auto: {results['scan_default_jobs']}) over {plan.scan_drafts} drafts")
    results["scan"] = scan_jobs(plan.scan_drafts, options, rounds=plan.scan_rounds)

    import spacy

    from checker import Checker
    from checker.presidio_engine import build_presidio_analyzer

    progress(f"loading postcheck and a stock '{model}' for the baselines")
    checker = Checker(max_chars=100_000)  # cost against length goes past the default size limit
    stock_nlp = spacy.load(model)
    presidio, _ = build_presidio_analyzer(stock_nlp, trimmed=False)
    systems = {
        "postcheck": checker.check,
        "presidio": lambda text: presidio.analyze(text=text, language="en"),
        "spacy": stock_nlp,
    }
    results["latency"] = {}
    for size_name, chars in SIZES.items():
        calls = plan.long_calls if size_name == "long" else plan.calls
        progress(f"latency: {size_name} drafts ({chars} chars), {calls} calls per system")
        times = interleaved_latency(systems, drafts(chars, min(calls, 100)), calls, block=20 if chars < 5_000 else 2)
        results["latency"][size_name] = {
            name: {"p50_ms": quantile(v, 0.5) * 1000, "p95_ms": quantile(v, 0.95) * 1000, "calls": len(v)}
            for name, v in times.items()
        }
    progress(f"batch throughput: {plan.batch_drafts} tweet-sized drafts")
    results["throughput"] = batch_throughput(checker, stock_nlp, drafts(TWEET, plan.batch_drafts, seed=8))
    progress("cost against draft length")
    results["length"] = cost_against_length(checker, stock_nlp, plan.length_reps)
    results["environment"] = {
        "cpus": os.cpu_count(), "python": platform.python_version(), "spacy": spacy.__version__, "model": model,
        "presidio": _version("presidio-analyzer"), "machine": platform.machine(),
        "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "default"),
    }
    return results


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


def targets(r: dict) -> list[tuple[str, str, bool]]:
    tweet = r["latency"]["tweet"]
    check_p50 = tweet["postcheck"]["p50_ms"]
    lengths = r["length"]
    per_char = {chars: row["own"] / row["chars"] for chars, row in lengths.items()}
    smallest, largest = min(per_char), max(per_char)
    cli, bare = r["startup"]["postcheck check --text"], r["startup"]["import spacy + load"]
    default_scan = r["scan"]["default"]["steady_drafts_per_s"]
    rows = [
        ("tweet p50: postcheck / plain Presidio <= 1.0", check_p50 / tweet["presidio"]["p50_ms"], 1.0),
        ("tweet p50: postcheck / bare spaCy <= 1.3", check_p50 / tweet["spacy"]["p50_ms"], 1.3),
        ("batch throughput: postcheck scan (default jobs) / loop of check >= 2.0", default_scan / r["throughput"]["loop"], -2.0),
        ("start-up: CLI process / bare model load <= 1.5", cli["seconds"] / bare["seconds"], 1.5),
        ("peak MB, checker process, drafts <= 10k + batch <= 400", r["peak_mb"]["everyday"], 400.0),
        ("peak MB, same process after a draft at the size limit <= 400", r["peak_mb"]["at_limit"], 400.0),
        (f"own work per char {largest // 1000}k / {smallest // 1000}k <= 1.25 (linear)", per_char[largest] / per_char[smallest], 1.25),
    ]
    return [(name, f"{value:.2f}", value <= limit if limit > 0 else value >= -limit) for name, value, limit in rows]


def render(r: dict) -> str:
    env = r["environment"]
    lines = [
        f"postcheck speed benchmark  ({env['cpus']} CPUs {env['machine']}, Python {env['python']}, spaCy {env['spacy']}, "
        f"{env['model']}, presidio-analyzer {env['presidio']}, OPENBLAS_NUM_THREADS={env['openblas_threads']})",
        "",
        "Latency per draft, ms (same drafts, systems take turns in blocks of calls)",
        f"{'draft':<13} {'calls':>5}  {'postcheck p50/p95':>18}  {'presidio p50/p95':>17}  {'spacy p50/p95':>15}"
        f"  {'/presidio':>9}  {'/spacy':>6}",
    ]
    for size, row in r["latency"].items():
        pc, pr, sp = row["postcheck"], row["presidio"], row["spacy"]
        lines.append(
            f"{size + ' ' + str(SIZES[size]):<13} {pc['calls']:>5}  {pc['p50_ms']:>8.1f} / {pc['p95_ms']:<7.1f}  "
            f"{pr['p50_ms']:>7.1f} / {pr['p95_ms']:<7.1f}  {sp['p50_ms']:>6.1f} / {sp['p95_ms']:<6.1f}  "
            f"{pc['p50_ms'] / pr['p50_ms']:>8.2f}x  {pc['p50_ms'] / sp['p50_ms']:>5.2f}x"
        )
    t = r["throughput"]
    lines += [
        "",
        "Throughput, tweet-sized drafts per second",
        f"  loop of check()               {t['loop']:>7.1f}",
        f"  check_many() in one process   {t['batch']:>7.1f}   {t['batch'] / t['loop']:.2f}x the loop (nlp.pipe)",
        f"  bare spaCy: loop {t['spacy_loop']:.1f}, nlp.pipe {t['spacy_batch']:.1f}"
        f"   {t['spacy_batch'] / t['spacy_loop']:.2f}x (the most batching gives the model itself)",
    ]
    for jobs, row in r["scan"].items():
        label = f"--jobs {jobs}" if jobs != "default" else f"(auto: {r['scan_default_jobs']} jobs)"
        lines.append(
            f"  postcheck scan {label:<15}{row['steady_drafts_per_s']:>7.1f}   {row['steady_drafts_per_s'] / t['loop']:.2f}x the loop"
            f" after start-up ({row['drafts_per_s']:.1f}/s with it, {row['seconds']:.1f} s; peak {row['peak_mb']:.0f} MB a process)"
        )
    one, two = r["scan"].get("1"), r["scan"].get("2") or (r["scan"]["default"] if r["scan_default_jobs"] == 2 else None)
    if one and two:
        lines.append(f"  --jobs 2 / --jobs 1             {two['steady_drafts_per_s'] / one['steady_drafts_per_s']:.2f}x")
    lines += ["", "Start-up, whole process (median wall time)"]
    for name, row in r["startup"].items():
        lines.append(f"  {name:<26} {row['seconds']:>6.2f} s   peak {row['peak_mb']:.0f} MB")
    lines += [
        "",
        f"Peak memory of a checker process: {r['peak_mb']['everyday']:.0f} MB with drafts up to 10k chars and a"
        f" batch; {r['peak_mb']['at_limit']:.0f} MB after one draft at the size limit",
        "",
    ]
    lines.append("Cost against draft length (median ms per draft)")
    lines.append(f"  {'chars':>7}  {'postcheck':>9}  {'spacy':>8}  {'own work':>8}   us/char: {'postcheck':>9}  {'spacy':>6}  {'own':>5}")
    for chars, row in r["length"].items():
        per = {k: 1000 * row[k] / row["chars"] for k in ("postcheck", "spacy", "own")}
        lines.append(
            f"  {row['chars']:>7.0f}  {row['postcheck']:>9.1f}  {row['spacy']:>8.1f}  {row['own']:>8.1f}"
            f"            {per['postcheck']:>9.1f}  {per['spacy']:>6.1f}  {per['own']:>5.1f}"
        )
    lines += ["", "Targets (ratios from this run)"]
    rows = targets(r)
    width = max(len(name) for name, _, _ in rows)
    for name, value, ok in rows:
        lines.append(f"  {'PASS' if ok else 'MISS'}  {name:<{width}} {value}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.speed", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls: a smoke run, not figures to quote")
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    parser.add_argument("--calls", type=int, help="calls per system for tweet and LinkedIn drafts (default 500)")
    parser.add_argument("--long-calls", type=int, help="calls per system for 10k-character drafts (default 60)")
    args = parser.parse_args(argv)
    plan = Plan.quick() if args.quick else Plan()
    plan.calls = args.calls or plan.calls
    plan.long_calls = args.long_calls or plan.long_calls
    started = time.perf_counter()
    results = measure(plan)
    results["wall_seconds"] = time.perf_counter() - started
    print(render(results))
    print(f"\n(measured in {results['wall_seconds']:.0f} s{'; --quick run' if args.quick else ''})")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
