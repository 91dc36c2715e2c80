"""Checks run in worker processes: a check past its deadline is stopped and its worker replaced, a
worker that dies is replaced, the front answers throughout, a batch's memory is bounded per job, and
Ctrl-C stops the server while a worker is checking. The worker's reply protocol is tested in-process."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time

import httpx
import pytest

from drafts import DISTINCTIVE_WORDS, long_draft
from live_server import peak_rss_mib, start_server
from checker.errors import InputError
from postcheck_service import pool
from postcheck_service.jobs import CheckJob
from postcheck_service.settings import ServiceSettings

LONG = long_draft(47_000)  # an ordinary long post, under the 50,000-character limit: seconds of parsing
TWEET = "Mrs. Thistlewood, 84yo, came in last night at 3am after a fall at home in Brambleford."
# Liveness bound (not a speed target; bench/service_load.py measures latency): the front must answer
# at all while a worker is busy or being replaced.
ANSWERS_WITHIN_S = 5
REPLACED_WITHIN_S = 90


def wait_for_workers(http: httpx.Client, count: int, within: float = REPLACED_WITHIN_S) -> None:
    deadline = time.monotonic() + within
    while http.get("/healthz").json()["workers"] != count:
        assert time.monotonic() < deadline, f"fewer than {count} check workers after {within} s"
        time.sleep(0.2)


# -- the deadline -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def deadline_server(tmp_path_factory):
    # 1 s: a tweet checks in ~30 ms, an ordinary 47,000-character draft in seconds.
    running = start_server(tmp_path_factory.mktemp("deadline-server"), {"POSTCHECK_TIMEOUT": "1"})
    yield running
    running.stop()


def test_a_check_past_its_deadline_is_503_and_the_server_recovers(deadline_server, checker):
    with httpx.Client(base_url=deadline_server.url, timeout=60) as http:
        started = time.monotonic()
        response = http.post("/v1/check", json={"text": LONG})
        assert response.status_code == 503
        assert response.json()["error"] == "check_timeout"
        assert int(response.headers["retry-after"]) >= 1
        assert time.monotonic() - started < 1 + ANSWERS_WITHIN_S, "the deadline is enforced, not waited out"
        # Still serving while the stopped worker is replaced, and whole again afterwards.
        assert http.get("/healthz").status_code == 200
        assert http.post("/v1/check", json={"text": TWEET}).json() == checker.check(TWEET).to_dict()
        wait_for_workers(http, 2)
        assert http.post("/v1/check", json={"text": TWEET}).json() == checker.check(TWEET).to_dict()
        batch = http.post("/v1/check/batch", json={"drafts": [{"id": "x", "text": LONG}]})
        assert batch.status_code == 503 and batch.json()["error"] == "check_timeout"
        wait_for_workers(http, 2)
        languagetool = http.post("/v2/check", data={"text": LONG, "language": "en-US"})
        assert languagetool.status_code == 503 and languagetool.json()["error"] == "check_timeout"
        wait_for_workers(http, 2)
    log = deadline_server.output()
    assert log.count("check stopped after 1 s (") == 3
    assert not [word for word in DISTINCTIVE_WORDS if word in log]


# -- worker failures and memory, on the shared server ---------------------------------------------------

def test_a_worker_that_dies_is_replaced(server, checker):
    with httpx.Client(base_url=server.url, timeout=60) as http:
        victim = server.worker_pids()[0]
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + ANSWERS_WITHIN_S
        while http.get("/healthz").json()["workers"] == 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert http.post("/v1/check", json={"text": TWEET}).json() == checker.check(TWEET).to_dict()
        wait_for_workers(http, 2)
        assert victim not in server.worker_pids()
        assert [http.post("/v1/check", json={"text": TWEET}).status_code for _ in range(4)] == [200] * 4
    assert "exited unexpectedly (exit code -9); restarting it" in server.output()
    with httpx.Client(base_url=server.url, timeout=60) as http:
        wait_for_workers(http, 2)


def test_healthz_and_tweets_answer_while_a_long_check_runs(server, checker):
    expected = checker.check(TWEET).to_dict()
    for long_request in ({"path": "/v1/check", "json": {"text": LONG}},
                         {"path": "/v1/check/batch", "json": {"drafts": [{"text": long_draft(9_000, seed)}
                                                                        for seed in range(6)]}}):
        outcome = {}

        def post_long():
            with httpx.Client(base_url=server.url, timeout=120) as own:
                outcome["status"] = own.post(long_request["path"], json=long_request["json"]).status_code

        running = threading.Thread(target=post_long)
        running.start()
        time.sleep(0.5)  # let the long request reach a worker
        with httpx.Client(base_url=server.url, timeout=ANSWERS_WITHIN_S) as other:
            for _ in range(3):
                assert other.get("/healthz").status_code == 200
                assert other.post("/v1/check", json={"text": TWEET}).json() == expected
        assert running.is_alive(), f"the long request to {long_request['path']} ended before the short ones"
        running.join()
        assert outcome["status"] == 200


def test_a_batch_holds_a_bounded_number_of_characters_per_worker(server):
    """20 drafts of 9,500 characters parsed together peak near 580 MB; in jobs of 50,000 characters a
    worker stays near the 340 MB of one long draft. (The shared server takes 200,000-byte bodies.)"""
    drafts = [{"id": str(seed), "text": long_draft(9_500, seed)} for seed in range(20)]
    with httpx.Client(base_url=server.url, timeout=300) as http:
        response = http.post("/v1/check/batch", json={"drafts": drafts})
    assert response.status_code == 200
    assert [result["id"] for result in response.json()["results"]] == [d["id"] for d in drafts]
    assert all(result["report"] for result in response.json()["results"])
    peaks = {pid: peak_rss_mib(pid) for pid in [server.process.pid, *server.worker_pids()]}
    assert max(peaks.values()) < 500, peaks


def test_a_batch_whose_client_left_stops_after_the_slice_in_hand(server):
    drafts = [{"text": long_draft(9_500, seed)} for seed in range(20)]  # 4 slices, seconds each
    with httpx.Client(base_url=server.url, timeout=1) as http:
        with pytest.raises(httpx.ReadTimeout):
            http.post("/v1/check/batch", json={"drafts": drafts})
    deadline = time.monotonic() + 60
    while "POST /v1/check/batch 499" not in server.stdout_path.read_text():
        assert time.monotonic() < deadline, "the batch ran on after its client had gone"
        time.sleep(0.2)


def test_ctrl_c_stops_the_server_while_a_worker_is_checking(deadline_server):
    server = deadline_server
    answered = {}

    def post_long():
        try:
            with httpx.Client(base_url=server.url, timeout=60) as http:
                answered["status"] = http.post("/v1/check", json={"text": LONG}).status_code
        except httpx.TransportError as error:
            answered["error"] = type(error).__name__

    running = threading.Thread(target=post_long)
    running.start()
    time.sleep(0.5)
    workers = server.worker_pids()
    started = time.monotonic()
    assert server.stop() == 0
    assert time.monotonic() - started < 20, "graceful shutdown is bounded"
    running.join()
    assert answered, "the request in flight got an answer or a closed connection, not a hang"
    time.sleep(0.5)
    assert not [pid for pid in workers if os.path.exists(f"/proc/{pid}") and _is_running(pid)]


def _is_running(pid: int) -> bool:
    state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    return state != "Z"


# -- the worker's side of the channel, in-process ---------------------------------------------------------

class LeakyChecker:
    """A Checker whose bug quotes the draft in its exception message; blank drafts are InputErrors."""

    def check(self, text, author=None, disable=(), allow=()):
        if not text.strip():
            raise InputError("draft is empty")
        raise ValueError(f"could not handle {text!r}")


def test_a_worker_replies_with_sizes_and_type_names_never_the_draft(monkeypatch):
    monkeypatch.setattr(pool, "build_checker", lambda settings: LeakyChecker())
    monkeypatch.setattr(pool, "describe", lambda checker: "info")
    monkeypatch.setattr(pool.signal, "signal", lambda *args: None)  # worker_main runs in a thread here
    front, worker_end = socket.socketpair()
    thread = threading.Thread(target=pool.worker_main, args=(worker_end, ServiceSettings()), daemon=True)
    thread.start()
    with front:
        assert pool._receive(front) == ("ready", "info")
        pool._send(front, CheckJob("Mrs. Thistlewood"))
        assert pool._receive(front) == ("bug", "ValueError")
        pool._send(front, CheckJob("   "))
        assert pool._receive(front) == ("input", "draft is empty")
    thread.join(5)
    assert not thread.is_alive(), "the worker exits when the front closes its channel"
