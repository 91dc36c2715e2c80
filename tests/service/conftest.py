"""Fixtures for the service tests: one real server for the session (see live_server.py)."""

from __future__ import annotations

from typing import Iterator

import httpx
import pytest

from live_server import SECURED_ENV, SERVER_ENV, RunningServer, start_server


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterator[RunningServer]:
    running = start_server(tmp_path_factory.mktemp("server"), SERVER_ENV)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def client(server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as http:
        yield http


@pytest.fixture(scope="session")
def secured_server(tmp_path_factory) -> Iterator[RunningServer]:
    """A server with POSTCHECK_TOKEN set, one worker; the browser and LanguageTool tests share it."""
    running = start_server(tmp_path_factory.mktemp("secured-server"), SECURED_ENV)
    yield running
    running.stop()
