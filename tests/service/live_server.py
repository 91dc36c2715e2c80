"""Start the real service (`postcheck serve`, uvicorn, in a subprocess on a free loopback port), wait for
/healthz, and stop it with SIGINT at the end, capturing everything it wrote to stdout and stderr."""

from __future__ import annotations

import os
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
    "POSTCHECK_MAX_BATCH": "5",
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


def start_server(directory: Path, env: Mapping[str, str], workers: int = 1) -> RunningServer:
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("POSTCHECK_")} | dict(env)
    directory.mkdir(parents=True, exist_ok=True)
    stdout_path, stderr_path = directory / "stdout.log", directory / "stderr.log"
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "checker.cli", "serve", "--port", str(port), "--workers", str(workers)],
            stdout=out, stderr=err, env=environment,
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
