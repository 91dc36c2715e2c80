"""Real Chromium for the browser tests: Debian's (/usr/bin/chromium; .ci/run installs it), driven by
Python Playwright through `executable_path`, so Playwright never downloads a browser.

Each browser gets a fresh profile, the switches this closed network needs (Chromium's background
connections are refused here), and a network log (`--log-net-log`) that records every request the
browser makes, with its initiator: a page's origin, an extension's origin, or "not an origin" for the
browser's own traffic (component updates, sign-in), which no page or extension can cause.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

import pytest

CHROMIUM = "/usr/bin/chromium"
REPO = Path(__file__).resolve().parents[2]
EXTENSION = REPO / "extension"
EXTENSION_ID = "oiddnpjnhmijlnmikfhnmdmddakfaocm"  # fixed by the public key in extension/manifest.json
ARTIFACTS = REPO / "tests" / "artifacts"
PAGES = Path(__file__).parent / "pages"
SWITCHES = [
    "--headless=new",  # the new headless mode, the one that runs extensions
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-features=AutofillServerCommunication,NetworkTimeServiceQuerying",
]


def require_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium before the tests")
    pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")


def launch(playwright, profile: Path, netlog: Path, extension: Path | None = None, **options):
    """A persistent context (a fresh profile directory) on Debian's Chromium."""
    switches = [*SWITCHES, f"--log-net-log={netlog}"]
    if extension is not None:
        switches += [f"--disable-extensions-except={extension}", f"--load-extension={extension}"]
    return playwright.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, headless=False, args=switches,
        ignore_default_args=["--disable-extensions"], **options)


@dataclass(frozen=True)
class LoggedRequest:
    initiator: str
    method: str
    url: str

    @property
    def origin(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"


def logged_requests(netlog: Path) -> list[LoggedRequest]:
    """Every network request in a Chromium net log (written when the browser closes)."""
    log = json.loads(netlog.read_text())
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return [LoggedRequest(params.get("initiator", ""), params.get("method", ""), params["url"])
            for event in log["events"] if event["type"] == start_job
            for params in [event.get("params", {})] if "url" in params]


def screenshot(page_or_locator, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page_or_locator.screenshot(path=str(path))
    return path


def screenshot_around(page, selectors: list[str], name: str, margin: int = 12) -> Path:
    """A screenshot of the part of the page that holds all of `selectors` (the draft and its card)."""
    boxes = [page.locator(selector).first.bounding_box() for selector in selectors]
    left = max(0, min(b["x"] for b in boxes) - margin)
    top = max(0, min(b["y"] for b in boxes) - margin)
    right = max(b["x"] + b["width"] for b in boxes) + margin
    bottom = max(b["y"] + b["height"] for b in boxes) + margin
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True,
                    clip={"x": left, "y": top, "width": right - left, "height": bottom - top})
    return path


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # the test page's server keeps quiet
        pass


def serve_pages() -> Iterator[str]:
    """tests/service/pages/ on a loopback port, as "any site" with compose boxes."""
    handler = functools.partial(Quiet, directory=str(PAGES))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
