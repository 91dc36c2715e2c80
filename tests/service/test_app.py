"""In-process checks of the pieces: settings, the wire models against the library, the last-resort 500,
the app over a Checker in this process, and `postcheck serve` failing with one line before it listens."""

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

from checker import ConfigError, Finding, Report
from checker.pipeline import DEFAULT_MAX_CHARS
from postcheck_service.app import create_app
from postcheck_service.jobs import JOB_CHARS, JOB_DRAFTS, batch_jobs
from postcheck_service.schemas import FindingModel, ReportModel, RiskModel
from postcheck_service.settings import (
    DEFAULT_MAX_BATCH,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_QUEUE,
    DEFAULT_TIMEOUT_S,
    ServiceSettings,
)


def test_settings_defaults_and_environment():
    defaults = ServiceSettings.from_env({})
    assert defaults == ServiceSettings()
    assert (defaults.token, defaults.max_body_bytes, defaults.max_batch, defaults.max_chars) == (
        None, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_BATCH, DEFAULT_MAX_CHARS)
    assert (defaults.check_timeout, defaults.max_queue) == (DEFAULT_TIMEOUT_S, DEFAULT_QUEUE)
    settings = ServiceSettings.from_env({
        "POSTCHECK_TOKEN": "t", "POSTCHECK_MAX_BATCH": "7", "POSTCHECK_TIMEOUT": "0.25",
        "POSTCHECK_CORS_ORIGINS": "moz-extension://1b2c-33, https://ehr.example.org:8443/ ,",
    })
    assert settings.token == "t" and settings.max_batch == 7 and settings.check_timeout == 0.25
    assert settings.cors_origins == ("moz-extension://1b2c-33", "https://ehr.example.org:8443")


@pytest.mark.parametrize("env, needle", [
    ({"POSTCHECK_CORS_ORIGINS": "*"}, "'*' is not allowed"),
    ({"POSTCHECK_CORS_ORIGINS": "chrome-extension://abc, null"}, "'null'"),
    ({"POSTCHECK_MAX_BODY_BYTES": "lots"}, "POSTCHECK_MAX_BODY_BYTES must be a whole number"),
    ({"POSTCHECK_MAX_BATCH": "0"}, "POSTCHECK_MAX_BATCH must be a whole number of at least 1"),
    ({"POSTCHECK_TIMEOUT": "0"}, "POSTCHECK_TIMEOUT must be a number of seconds above 0"),
    ({"POSTCHECK_HEADER_TIMEOUT": "soon"}, "POSTCHECK_HEADER_TIMEOUT must be a number of seconds"),
    ({"POSTCHECK_BODY_TIMEOUT": "nan"}, "POSTCHECK_BODY_TIMEOUT must be a number of seconds above 0"),
    ({"POSTCHECK_QUEUE": "-1"}, "POSTCHECK_QUEUE must be a whole number of at least 1"),
    ({"POSTCHECK_MAX_CONNECTIONS": "many"}, "POSTCHECK_MAX_CONNECTIONS must be a whole number"),
    ({"POSTCHECK_TOKEN": ""}, "POSTCHECK_TOKEN is set but blank"),
    ({"POSTCHECK_TOKEN": " \r\n\t"}, "POSTCHECK_TOKEN is set but blank"),
    ({"POSTCHECK_TOKEN": "two words"}, "no spaces or control characters inside"),
    ({"POSTCHECK_TOKEN": "tab\tinside"}, "no spaces or control characters inside"),
    ({"POSTCHECK_TOKEN": "bell\x07"}, "no spaces or control characters inside"),
    ({"POSTCHECK_TOKEN": "t\u00f6ken"}, "printable ASCII"),
])
def test_bad_settings_are_config_errors(env, needle):
    with pytest.raises(ConfigError, match=re.escape(needle)) as raised:
        ServiceSettings.from_env(env)
    token = env.get("POSTCHECK_TOKEN", "").strip()
    assert not token or token not in str(raised.value), "the error must not repeat the token"


def test_a_token_is_stripped_of_surrounding_whitespace():
    assert ServiceSettings.from_env({"POSTCHECK_TOKEN": "  s3cret-Tok_en.~+/=\n"}).token == "s3cret-Tok_en.~+/="
    assert ServiceSettings.from_env({}).token is None


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
    ({"POSTCHECK_TOKEN": " \n"}, [], 2, "POSTCHECK_TOKEN is set but blank"),
    ({"POSTCHECK_TOKEN": "two words"}, [], 2, "no spaces or control characters inside"),
])
def test_serve_fails_with_one_line_before_listening(busy_port, env, args, code, needle):
    args = [str(busy_port) if arg == "BUSY" else arg for arg in args]
    port = [] if "--port" in args else ["--port", "0"]
    result = subprocess.run([sys.executable, "-m", "checker.cli", "serve", *port, *args],
                            env=env | {"PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=120)
    assert result.returncode == code
    assert result.stderr.startswith("postcheck: error: ") and needle in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    token = env.get("POSTCHECK_TOKEN", "").strip()
    assert not token or token not in result.stderr, "the error must not repeat the token"


def test_cli_start_up_does_not_import_the_web_stack():
    code = "import sys, checker.cli; print(sorted({'fastapi', 'uvicorn', 'service'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "[]"


def test_batches_are_cut_by_characters_not_only_by_count():
    drafts = [(str(i), "x" * 10_000) for i in range(100)] + [("long", "y" * 120_000), ("t", "tweet")]
    jobs = list(batch_jobs(drafts, None, ["age-exact"]))
    assert [key for job in jobs for key, _ in job.drafts] == [key for key, _ in drafts], "order is kept"
    assert all(job.chars <= JOB_CHARS or len(job.drafts) == 1 for job in jobs)
    assert max(len(job.drafts) for job in jobs) == 5  # 5 x 10,000 characters fill a job
    assert any(job.drafts == (("long", "y" * 120_000),) for job in jobs), "an over-long draft goes alone"
    assert all(job.disable == ("age-exact",) for job in jobs)
    tweets = list(batch_jobs([(None, "short")] * 100, None, []))
    assert [len(job.drafts) for job in tweets] == [JOB_DRAFTS, 100 - JOB_DRAFTS]


def test_in_process_app_answers_like_the_library(checker):
    """create_app(settings, checker) runs the same jobs in this process: same reports as the library."""
    app = create_app(ServiceSettings(), checker=checker)
    draft = "Dr. Okonkwo here: saw Mr. Brandt, 77, in clinic this morning."

    async def calls():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            single = await client.post("/v1/check", json={"text": draft, "author": "Okonkwo"})
            batch = await client.post("/v1/check/batch", json={"drafts": [{"id": "a", "text": draft}]})
            health = await client.get("/healthz")
            return single, batch, health

    single, batch, health = anyio.run(calls)
    assert single.json() == checker.check(draft, author="Okonkwo").to_dict()
    assert batch.json()["results"] == [{"id": "a", "report": checker.check(draft).to_dict(), "error": None}]
    assert health.json()["rules"] == len(checker.ruleset.rules) and health.json()["workers"] == 1
