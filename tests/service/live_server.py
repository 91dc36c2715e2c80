"""Start the real service (`postcheck serve`: the HTTP front and its check workers, in a subprocess on a
free loopback port), wait for /healthz, and stop it with SIGINT at the end, capturing everything it
wrote to stdout and stderr (the workers' output included)."""

from __future__ import annotations

import os
import resource
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import httpx

START_TIMEOUT_S = 90
STOP_TIMEOUT_S = 30
# Settings for the shared test server: small limits so 413s are cheap to provoke, and CORS for one
# Chrome extension and one web origin.
EXTENSION_ORIGIN = "chrome-extension://abcdefghijklmnopabcdefghijklmnop"
WEB_ORIGIN = "https://notes.example.org"
SERVER_ENV = {
    "POSTCHECK_CORS_ORIGINS": f"{EXTENSION_ORIGIN}, {WEB_ORIGIN}",
    "POSTCHECK_MAX_BODY_BYTES": "200000",
    "POSTCHECK_MAX_BATCH": "20",
}
TOKEN = "s3cret-test-token"
# A server with a token and no CORS: Chromium lets the extension's service worker reach a server its
# host permissions name without CORS, so the browser tests also show no CORS setting is needed there.
SECURED_ENV = {"POSTCHECK_TOKEN": TOKEN}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class RunningServer:
    url: str
    process: subprocess.Popen
    stdout_path: Path
    stderr_path: Path

    def output(self) -> str:
        return self.stdout_path.read_text(errors="replace") + self.stderr_path.read_text(errors="replace")

    def worker_pids(self) -> list[int]:
        """The check workers: the server's children started by multiprocessing's spawn."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        pids = []
        for pid in children:
            try:
                if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    pids.append(int(pid))
            except OSError:  # exited meanwhile
                pass
        return pids

    def stop(self) -> int:
        """SIGINT, as Ctrl-C would: uvicorn finishes in-flight requests and exits 0."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def peak_rss_mib(pid: int) -> float:
    """A process's peak resident memory so far (VmHWM), in MiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmHWM:")).split()[1]) / 1024


def start_server(directory: Path, env: Mapping[str, str], workers: int = 2,
                 open_files: int | None = None) -> RunningServer:
    """`open_files` sets the server's RLIMIT_NOFILE, soft and hard, as a tight container would."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("POSTCHECK_")} | dict(env)
    directory.mkdir(parents=True, exist_ok=True)
    stdout_path, stderr_path = directory / "stdout.log", directory / "stderr.log"

    def limit_open_files() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))

    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "checker.cli", "serve", "--port", str(port), "--workers", str(workers)],
            stdout=out, stderr=err, env=environment, preexec_fn=limit_open_files if open_files else None,
        )
    server = RunningServer(f"http://127.0.0.1:{port}", process, stdout_path, stderr_path)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{server.output()}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"server did not answer /healthz within {START_TIMEOUT_S}s:\n{server.output()}")
