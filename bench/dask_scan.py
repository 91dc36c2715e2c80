"""`scan --dask` on a local Dask cluster beside `scan --jobs 1` and `--jobs 2`: drafts per second and memory.

    .venv/bin/python -m bench.dask_scan                 # 3,000 tweet-sized drafts, three rounds: about 10 minutes on 2 cores
    .venv/bin/python -m bench.dask_scan --drafts 500    # a quick look

Needs the dask extra. The clusters are started the way the README says (`dask scheduler`, then
`dask worker --nworkers N --nthreads 1`), on loopback, one with 1 worker and one with 2, and left idle
between scans; each scan loads its Checkers on its cluster, as a real scan does. Drafts per second after start-up come from the difference between
the full scan and a one-draft scan (as in bench/speed.py), so loading the model does not hide the
throughput; the wall figure includes it. Memory is sampled every 50 ms: the peak of the summed resident
memory of the scan process and its children (for --jobs), or of the client and of the worker processes
(for --dask; the scheduler and the nannies are shown apart). Drafts are synthetic (bench/drafts.py).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from bench.drafts import jsonl_lines
from bench.speed import ROOT, postcheck_command

MIB = 1024 * 1024
# As the README asks of workers: one BLAS thread, and no spilling of task data (drafts) to disk.
WORKER_ENV = {
    "OPENBLAS_NUM_THREADS": "1",
    "DASK_DISTRIBUTED__WORKER__MEMORY__TARGET": "False",
    "DASK_DISTRIBUTED__WORKER__MEMORY__SPILL": "False",
}


class PeakMemory:
    """Samples the summed RSS of groups of processes (each a root and its descendants) until stopped."""

    def __init__(self, groups: dict[str, list[psutil.Process]], only: dict[str, str] | None = None):
        self.groups, self.only = groups, only or {}
        self.peaks = {name: 0 for name in groups}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> "PeakMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            for name, roots in self.groups.items():
                self.peaks[name] = max(self.peaks[name], sum(self._rss(root, self.only.get(name)) for root in roots))

    @staticmethod
    def _rss(root: psutil.Process, only: str | None) -> int:
        try:
            processes = [root, *root.children(recursive=True)]
            return sum(p.memory_info().rss for p in processes if only is None or only in " ".join(p.cmdline()))
        except psutil.Error:
            return 0


def run_scan(command: list[str], extra_groups: dict[str, list[psutil.Process]] | None = None,
             only: dict[str, str] | None = None) -> tuple[float, dict[str, int]]:
    start = time.perf_counter()
    child = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    groups = {"client": [psutil.Process(child.pid)], **(extra_groups or {})}
    with PeakMemory(groups, only) as memory:
        _, stderr = child.communicate()
    elapsed = time.perf_counter() - start
    if child.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(command[1:4])} ... exited {child.returncode}: {stderr.decode()[-300:]}")
    return elapsed, memory.peaks


class LocalDask:
    """`dask scheduler` and `dask worker --nworkers N --nthreads 1` on loopback, as the README runs them."""

    def __init__(self, workers: int, port: int):
        self.workers, self.address = workers, f"tcp://127.0.0.1:{port}"
        bin_dir = Path(sys.executable).parent
        env = os.environ | WORKER_ENV
        self.scheduler = subprocess.Popen([str(bin_dir / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                           "--no-dashboard"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.worker = subprocess.Popen([str(bin_dir / "dask"), "worker", self.address, "--nworkers", str(workers),
                                        "--nthreads", "1", "--no-dashboard"], env=env,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def __enter__(self) -> "LocalDask":
        from distributed import Client

        with Client(self.address, timeout=60) as client:
            client.wait_for_workers(self.workers, timeout=120)
        return self

    def __exit__(self, *exc) -> None:
        for process in (self.worker, self.scheduler):
            process.terminate()
            process.wait(timeout=60)


def fastest(runs: list[tuple[float, dict[str, int]]]) -> tuple[float, dict[str, int]]:
    """The fastest run's time (one slow start on a small, shared VM should not decide the figure) and the
    highest peak of any run."""
    return min(seconds for seconds, _ in runs), {name: max(p[name] for _, p in runs) for name in runs[0][1]}


def measure(count: int, rounds: int) -> list[dict]:
    """Each round runs every setup once, in rotating order, so background load hits them alike."""
    with tempfile.TemporaryDirectory() as tmp, LocalDask(1, port=8941) as one_worker, LocalDask(2, port=8942) as two_workers:
        archive, single = Path(tmp, "archive.jsonl"), Path(tmp, "one.jsonl")
        archive.write_text("".join(line + "\n" for line in jsonl_lines(count)), encoding="utf-8")
        single.write_text(next(jsonl_lines(1)) + "\n", encoding="utf-8")
        scan = postcheck_command() + ["scan", "--format", "jsonl", "--fail-on", "never"]
        setups = {"scan --jobs 1": (scan + ["--jobs", "1"], None), "scan --jobs 2": (scan + ["--jobs", "2"], None),
                  "scan --dask, 1 worker": (scan + ["--dask", one_worker.address], one_worker),
                  "scan --dask, 2 workers": (scan + ["--dask", two_workers.address], two_workers)}
        runs: dict[str, dict[str, list]] = {name: {"one": [], "full": []} for name in setups}
        names = list(setups)
        for number in range(rounds):
            for name in names[number % len(names):] + names[:number % len(names)]:
                command, cluster = setups[name]
                groups, only = {}, {}
                if cluster is not None:
                    groups = {"workers": [psutil.Process(cluster.worker.pid)], "scheduler": [psutil.Process(cluster.scheduler.pid)],
                              "nannies": [psutil.Process(cluster.worker.pid)]}
                    only = {"workers": "spawn_main", "nannies": "dask worker"}
                runs[name]["one"].append(run_scan(command + [str(single)], groups, only))
                runs[name]["full"].append(run_scan(command + [str(archive)], groups, only))
    rows = []
    for name, (command, cluster) in setups.items():
        one, _ = fastest(runs[name]["one"])
        seconds, peaks = fastest(runs[name]["full"])
        workers = peaks.get("workers")
        overhead = None if cluster is None else peaks["scheduler"] + peaks["nannies"]
        rows.append(row(name, count, seconds, one, peaks["client"], workers, overhead))
    return rows


def row(name, count, seconds, one, client, workers, cluster) -> dict:
    steady = (count - 1) / (seconds - one) if seconds - one > 1 else None  # too short a scan to tell
    return {"setup": name, "drafts_per_s": count / seconds, "steady_drafts_per_s": steady,
            "client_mib": client / MIB, "workers_mib": None if workers is None else workers / MIB,
            "total_mib": (client + (workers or 0)) / MIB, "cluster_mib": None if cluster is None else cluster / MIB}


def table(rows: list[dict], count: int) -> str:
    lines = [f"{count} tweet-sized drafts, {os.cpu_count()} CPUs",
             "| setup | drafts/s (wall) | drafts/s (after start-up) | peak RSS: scan process(es) / client | workers | client + workers | scheduler + nannies |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        workers = "(in the scan)" if r["workers_mib"] is None else f"{r['workers_mib']:.0f} MiB"
        cluster = "-" if r["cluster_mib"] is None else f"{r['cluster_mib']:.0f} MiB"
        steady = "n/a" if r["steady_drafts_per_s"] is None else f"{r['steady_drafts_per_s']:.1f}"
        lines.append(f"| {r['setup']} | {r['drafts_per_s']:.1f} | {steady} | {r['client_mib']:.0f} MiB | "
                     f"{workers} | {r['total_mib']:.0f} MiB | {cluster} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drafts", type=int, default=3_000)
    parser.add_argument("--rounds", type=int, default=3, help="runs of each scan; the fastest counts")
    args = parser.parse_args()
    print(table(measure(args.drafts, args.rounds), args.drafts))


if __name__ == "__main__":
    main()
