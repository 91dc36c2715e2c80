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


@pytest.fixture
def no_local_languagetool(monkeypatch):
    """The client must only talk HTTP to our server: starting or downloading LanguageTool fails the test."""
    from language_tool_python.download_lt import LocalLanguageTool
    from language_tool_python.server import LanguageTool

    def refuse(*args, **kwargs):
        raise AssertionError("language_tool_python tried to download or start LanguageTool")

    monkeypatch.setattr(LocalLanguageTool, "download", refuse)
    monkeypatch.setattr(LanguageTool, "_start_local_server", refuse)
    monkeypatch.setattr(LanguageTool, "_start_server_on_free_port", refuse)
