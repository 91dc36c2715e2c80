"""Load run of the HTTP service on loopback: requests per second and p50/p99 latency of POST /v1/check
for tweet-sized drafts at 1 and 8 concurrent clients, the latency of /healthz and of a tweet while a
long draft is being checked, and the memory of the front and of each check worker.

    python bench/service_load.py [--seconds 20] [--workers 2] [--max-batch]

Starts its own `postcheck serve` on a free 127.0.0.1 port, warms it up, runs each concurrency level for
at most --seconds (and at most --max-requests), stops the server and prints the figures. The whole run
is bounded to 60 s of load (plus a few long checks); it sends traffic nowhere but 127.0.0.1.
--max-batch also sends one maximum batch (100 drafts of 10,000 characters, about a minute of checking)
and reports each process's peak memory after it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.drafts import LONG, drafts  # noqa: E402

LEVELS = (1, 8)
LONG_CHARS = 47_000
LIVENESS_PROBES = 20
MAX_LOAD_SECONDS = 60
# Written for this benchmark (not taken from any corpus): posts of tweet length, some clean, some not.
DRAFTS = [
    "Reminder to every intern starting nights: eat a real dinner before 7pm, write your sign-out before "
    "midnight, and ask for help early. Nobody remembers who called the senior; everyone remembers who didn't.",
    "Saw a 93-year-old from Millbrook last night at 2am who still does the crossword in pen and corrected "
    "my spelling of furosemide. Absolute legend.",
    "Mrs. Albescu came back to thank the whole team today, walking on her own. Best part of the job, "
    "by far.",
    "New paper out on early mobility after hip surgery. Thread below on what changed our practice, what "
    "did not, and what we would study next.",
    "Our program director cancelled wellness day again. Nobody in this department cares about residents "
    "at all, and honestly I am done pretending they do.",
    "Grateful for the respiratory therapists on 5 North this week. You carried us through a brutal "
    "stretch of admissions and never once complained.",
    "Pt in bed 12 (MRN 4481920) asked if the hospital food was a punishment. Fair question honestly.",
    "Tip for students: present the assessment first, then the data that supports it. Attendings love it, "
    "and it forces you to commit to a plan.",
    "Yesterday at 4pm a dad brought his twins in for the third time this month. Worried sick, poor guy, "
    "and they were fine every time.",
    "Hot take: the best stethoscope is the one you remember to bring. Happy Match Day everyone, and "
    "congratulations to our new interns!",
    "Just finished a 28-hour call. Coffee count: 6. Lives saved: hopefully some. Sleep: next, for as long "
    "as the pager allows.",
    "Family of the patient in 7B yelled at our nurse for 20 minutes today over parking validation. "
    "Unbelievable how some people treat staff.",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(port: int, workers: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTCHECK_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "checker.cli", "serve", "--port", str(port), "--workers", str(workers)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("server did not start within 90 s")


def memory_mib(pid: int) -> dict[str, tuple[float, float]]:
    """{"front" | "worker PID": (current RSS, peak RSS)} in MiB, from /proc: the server and its check
    workers (multiprocessing's resource tracker, a few MiB, is left out)."""
    found = {"front": _rss(pid)}
    for child in _children(pid):
        try:
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                found[f"worker {child}"] = _rss(int(child))
        except OSError:
            pass
    return found


def _rss(pid: int) -> tuple[float, float]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                  if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def _children(pid: int) -> list[str]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return path.read_text().split() if path.exists() else []


def liveness_during_long_check(url: str) -> dict:
    """Worst latency of /healthz and of a tweet check from a second client while one long draft
    (47,000 characters) is being checked."""
    done = threading.Event()
    outcome = {}

    def post_long() -> None:
        started = time.perf_counter()
        with httpx.Client(base_url=url, timeout=120) as http:
            outcome["status"] = http.post("/v1/check", json={"text": drafts(LONG_CHARS, 1)[0]}).status_code
        outcome["seconds"] = time.perf_counter() - started
        done.set()

    thread = threading.Thread(target=post_long)
    thread.start()
    time.sleep(0.3)
    health: list[float] = []
    tweet: list[float] = []
    with httpx.Client(base_url=url, timeout=60) as http:
        while not done.is_set() and len(health) < LIVENESS_PROBES:
            started = time.perf_counter()
            http.get("/healthz").raise_for_status()
            health.append(time.perf_counter() - started)
            started = time.perf_counter()
            http.post("/v1/check", json={"text": DRAFTS[len(tweet) % len(DRAFTS)]}).raise_for_status()
            tweet.append(time.perf_counter() - started)
    thread.join()
    return {"probes": len(health), "health": max(health) * 1000, "tweet": max(tweet) * 1000,
            "long_s": outcome["seconds"], "long_status": outcome["status"]}


def max_batch(url: str) -> tuple[int, float]:
    batch = [{"id": str(i), "text": text} for i, text in enumerate(drafts(LONG, 100, seed=11))]
    started = time.perf_counter()
    with httpx.Client(base_url=url, timeout=600) as http:
        status = http.post("/v1/check/batch", json={"drafts": batch}).status_code
    return status, time.perf_counter() - started


async def run_level(url: str, clients: int, seconds: float, max_requests: int) -> dict:
    latencies: list[float] = []
    errors = 0
    stop_at = time.perf_counter() + seconds
    budget = max_requests

    async def one_client(index: int, http: httpx.AsyncClient) -> None:
        nonlocal errors, budget
        position = index
        while time.perf_counter() < stop_at and budget > 0:
            budget -= 1
            text = DRAFTS[position % len(DRAFTS)]
            position += clients
            started = time.perf_counter()
            response = await http.post("/v1/check", json={"text": text})
            latencies.append(time.perf_counter() - started)
            errors += response.status_code != 200

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        began = time.perf_counter()
        await asyncio.gather(*(one_client(i, http) for i in range(clients)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "clients": clients,
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20, help="load time per concurrency level")
    parser.add_argument("--max-requests", type=int, default=20_000, help="request cap per level")
    parser.add_argument("--workers", type=int, default=2, help="check workers (serve's default: 2)")
    parser.add_argument("--max-batch", action="store_true", help="also send one maximum batch")
    args = parser.parse_args()
    seconds = min(args.seconds, MAX_LOAD_SECONDS / len(LEVELS))

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_server(port, args.workers)
    batch = None
    try:
        idle = memory_mib(server.pid)
        with httpx.Client(base_url=url, timeout=60) as http:  # warm-up: first parses allocate
            for text in DRAFTS * 2:
                http.post("/v1/check", json={"text": text}).raise_for_status()
        results = [asyncio.run(run_level(url, clients, seconds, args.max_requests)) for clients in LEVELS]
        liveness = liveness_during_long_check(url)
        after_load = memory_mib(server.pid)
        if args.max_batch:
            batch = max_batch(url)
        final = memory_mib(server.pid)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)

    average = sum(map(len, DRAFTS)) / len(DRAFTS)
    print(f"postcheck service on 127.0.0.1, {args.workers} check worker(s), POST /v1/check, "
          f"tweet-sized drafts (mean {average:.0f} chars), {seconds:g} s per level, {os.cpu_count()} CPUs")
    print(f"{'clients':>7} {'requests':>8} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6}")
    for r in results:
        print(f"{r['clients']:>7} {r['requests']:>8} {r['rps']:>7.1f} {r['p50']:>7.1f} {r['p99']:>7.1f} {r['errors']:>6}")
    print(f"while one {LONG_CHARS}-character draft was checked ({liveness['long_s']:.1f} s, status "
          f"{liveness['long_status']}): worst of {liveness['probes']} probes, /healthz "
          f"{liveness['health']:.0f} ms, tweet check {liveness['tweet']:.0f} ms")
    if batch is not None:
        print(f"maximum batch (100 drafts of 10,000 characters): status {batch[0]} in {batch[1]:.0f} s")
    print(f"{'process':>14} {'RSS idle':>9} {'after load':>10} {'now':>6} {'peak':>6}  (MiB)")
    for name, (rss, peak) in final.items():
        start = idle.get(name, (float("nan"),))[0]
        middle = after_load.get(name, (float("nan"),))[0]
        print(f"{name:>14} {start:>9.0f} {middle:>10.0f} {rss:>6.0f} {peak:>6.0f}")


if __name__ == "__main__":
    main()
