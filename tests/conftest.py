"""Shared fixtures: one Checker per test session (loading the model is the slow part), and a hermetic
environment for every test, whatever the developer's home directory or shell holds."""

from __future__ import annotations

import os

import pytest

from checker import Checker

# Settings a developer may have exported; none of them may change what a test sees.
_SETTING_PREFIX = "POSTCHECK_"


@pytest.fixture(autouse=True)
def hermetic(tmp_path_factory, monkeypatch):
    """No user config, no project config, no POSTCHECK_ variables: HOME and XDG_CONFIG_HOME point at an
    empty directory, and each test runs in an empty directory that is its own repository root (so a
    `.postcheck.toml` above it is never found). Tests that want a setting set it themselves."""
    home = tmp_path_factory.mktemp("home")
    work = tmp_path_factory.mktemp("work")
    (work / ".git").mkdir()
    for name in list(os.environ):
        if name.startswith(_SETTING_PREFIX):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("APPDATA", str(home / "AppData"))  # platformdirs on Windows
    monkeypatch.chdir(work)
    yield work


@pytest.fixture(scope="session")
def checker() -> Checker:
    return Checker()
