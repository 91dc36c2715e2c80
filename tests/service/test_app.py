"""In-process checks of the pieces: settings, the wire models against the library, the last-resort 500,
and `postcheck serve` failing with one line before it listens."""

from __future__ import annotations

import dataclasses
import logging
import re
import socket
import subprocess
import sys

import anyio
import httpx
import pytest
from uvicorn.protocols.http.auto import AutoHTTPProtocol

from checker import ConfigError, Finding, Report
from checker.pipeline import DEFAULT_MAX_CHARS
from postcheck_service.app import create_app
from postcheck_service.schemas import FindingModel, ReportModel, RiskModel
from postcheck_service.server import NoDelayHTTPProtocol
from postcheck_service.settings import DEFAULT_MAX_BATCH, DEFAULT_MAX_BODY_BYTES, ServiceSettings


def test_settings_defaults_and_environment():
    assert ServiceSettings.from_env({}) == ServiceSettings(
        None, (), DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_BATCH, DEFAULT_MAX_CHARS)
    settings = ServiceSettings.from_env({
        "POSTCHECK_TOKEN": "t", "POSTCHECK_MAX_BATCH": "7",
        "POSTCHECK_CORS_ORIGINS": "moz-extension://1b2c-33, https://ehr.example.org:8443/ ,",
    })
    assert settings.token == "t" and settings.max_batch == 7
    assert settings.cors_origins == ("moz-extension://1b2c-33", "https://ehr.example.org:8443")


@pytest.mark.parametrize("env, needle", [
    ({"POSTCHECK_CORS_ORIGINS": "*"}, "'*' is not allowed"),
    ({"POSTCHECK_CORS_ORIGINS": "chrome-extension://abc, null"}, "'null'"),
    ({"POSTCHECK_MAX_BODY_BYTES": "lots"}, "POSTCHECK_MAX_BODY_BYTES must be a whole number"),
    ({"POSTCHECK_MAX_BATCH": "0"}, "POSTCHECK_MAX_BATCH must be a whole number of at least 1"),
])
def test_bad_settings_are_config_errors(env, needle):
    with pytest.raises(ConfigError, match=re.escape(needle)):
        ServiceSettings.from_env(env)


def test_wire_models_mirror_the_library_dataclasses(checker):
    assert list(FindingModel.model_fields) == [f.name for f in dataclasses.fields(Finding)]
    report = checker.check("Mrs. Quill, 84yo, came in last night.")
    assert list(ReportModel.model_fields) == list(report.to_dict())
    assert list(RiskModel.model_fields) == list(report.risk.to_dict())
    assert ReportModel.model_validate(report.to_dict()).model_dump() == report.to_dict()
    assert isinstance(report, Report)


def test_cors_is_off_unless_configured(checker):
    app = create_app(ServiceSettings(), checker=checker)

    async def preflight():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            return await client.options("/v1/check", headers={
                "Origin": "chrome-extension://abcdefghijklmnop", "Access-Control-Request-Method": "POST"})

    response = anyio.run(preflight)
    assert response.status_code == 405
    assert not any(name.startswith("access-control-") for name in response.headers)


class ExplodingChecker:
    """A stand-in for a Checker with a bug whose exception message quotes the draft."""

    def check(self, text, author=None, disable=(), allow=()):
        raise ValueError(f"could not handle {text!r}")


def test_unexpected_error_is_a_json_500_that_logs_no_draft(caplog):
    app = create_app(ServiceSettings(), checker=ExplodingChecker())

    async def post():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            return await client.post("/v1/check", json={"text": "Mrs. Quillfeather"})

    with caplog.at_level(logging.INFO):
        response = anyio.run(post)
    assert response.status_code == 500
    assert response.json()["error"] == "internal_error" and "Quillfeather" not in response.text
    assert "unhandled ValueError in POST /v1/check" in caplog.text
    assert "Quillfeather" not in caplog.text


@pytest.fixture
def busy_port():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


@pytest.mark.parametrize("env, args, code, needle", [
    ({"POSTCHECK_CORS_ORIGINS": "*"}, [], 2, "'*' is not allowed"),
    ({"POSTCHECK_MODEL": "no_such_model"}, [], 3, "'no_such_model' is not installed"),
    ({}, ["--host", "no-such-host.invalid"], 2, "cannot listen on no-such-host.invalid"),
    ({}, ["--port", "BUSY"], 2, "Address already in use"),
])
def test_serve_fails_with_one_line_before_listening(busy_port, env, args, code, needle):
    args = [str(busy_port) if arg == "BUSY" else arg for arg in args]
    port = [] if "--port" in args else ["--port", "0"]
    result = subprocess.run([sys.executable, "-m", "checker.cli", "serve", *port, *args],
                            env=env | {"PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=120)
    assert result.returncode == code
    assert result.stderr.startswith("postcheck: error: ") and needle in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_cli_start_up_does_not_import_the_web_stack():
    code = "import sys, checker.cli; print(sorted({'fastapi', 'uvicorn', 'service'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "[]"


def test_every_connection_gets_tcp_nodelay(monkeypatch):
    """A listener bound with proto 0 (as uvicorn binds it for --workers N) hands out sockets without
    TCP_NODELAY; the protocol turns it on so keep-alive answers do not wait for a delayed ACK."""
    monkeypatch.setattr(AutoHTTPProtocol, "connection_made", lambda self, transport: None)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        with socket.create_connection(listener.getsockname()) as _, listener.accept()[0] as accepted:
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
            transport = type("Transport", (), {"get_extra_info": lambda self, name: accepted})()
            NoDelayHTTPProtocol.connection_made(object.__new__(NoDelayHTTPProtocol), transport)
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
