"""Load run of the HTTP service on loopback: requests per second and p50/p99 latency of POST /v1/check
for tweet-sized drafts at 1 and 8 concurrent clients, and the server's memory.

    python bench/service_load.py [--seconds 20] [--workers 1]

Starts its own `postcheck serve` on a free 127.0.0.1 port, warms it up, runs each concurrency level for
at most --seconds (and at most --max-requests), stops the server and prints the figures. The whole run
is bounded to 60 s of load; it sends traffic nowhere but 127.0.0.1.
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
import time
from pathlib import Path

import httpx

LEVELS = (1, 8)
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


def memory_kib(pid: int) -> tuple[int, int]:
    """(current RSS, peak RSS) in KiB of a process and its children (the workers), from /proc."""
    pids = [pid] + [int(child) for child in _children(pid)]
    rss = peak = 0
    for each in pids:
        fields = dict(line.split(":", 1) for line in Path(f"/proc/{each}/status").read_text().splitlines()
                      if ":" in line)
        rss += int(fields["VmRSS"].split()[0])
        peak += int(fields["VmHWM"].split()[0])
    return rss, peak


def _children(pid: int) -> list[str]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return path.read_text().split() if path.exists() else []


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
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    seconds = min(args.seconds, MAX_LOAD_SECONDS / len(LEVELS))

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_server(port, args.workers)
    try:
        idle_rss, _ = memory_kib(server.pid)
        with httpx.Client(base_url=url, timeout=60) as http:  # warm-up: first parses allocate
            for text in DRAFTS * 2:
                http.post("/v1/check", json={"text": text}).raise_for_status()
        results = [asyncio.run(run_level(url, clients, seconds, args.max_requests)) for clients in LEVELS]
        rss, peak = memory_kib(server.pid)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)

    average = sum(map(len, DRAFTS)) / len(DRAFTS)
    print(f"postcheck service on 127.0.0.1, {args.workers} worker(s), POST /v1/check, "
          f"tweet-sized drafts (mean {average:.0f} chars), {seconds:g} s per level, {os.cpu_count()} CPUs")
    print(f"{'clients':>7} {'requests':>8} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6}")
    for r in results:
        print(f"{r['clients']:>7} {r['requests']:>8} {r['rps']:>7.1f} {r['p50']:>7.1f} {r['p99']:>7.1f} {r['errors']:>6}")
    print(f"server memory: {idle_rss / 1024:.0f} MiB RSS after start-up, {rss / 1024:.0f} MiB after the run, "
          f"peak {peak / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
