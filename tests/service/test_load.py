"""Sixteen clients for sixty seconds on loopback, mixing /v1/check, /v1/check/batch and /v2/check: every
answer is the one a single client got for the same request, none is an error, and nothing the
server printed (stdout and stderr, workers included) holds a word of any draft."""

from __future__ import annotations

import threading
import time
from collections import Counter

import httpx
import pytest

from drafts import DISTINCTIVE_WORDS, NAMED_DRAFTS
from live_server import start_server

CLIENTS = 16
SECONDS = 60
MAX_REQUESTS = 200_000  # a bound on the loop, far above what 60 s allows


def request_mix() -> list[tuple[str, dict]]:
    """(path, httpx keyword arguments): each draft alone, in batches, and as LanguageTool sees it."""
    mix: list[tuple[str, dict]] = []
    for text in NAMED_DRAFTS:
        mix.append(("/v1/check", {"json": {"text": text}}))
        mix.append(("/v2/check", {"data": {"text": text, "language": "en-US", "level": "picky"}}))
    for start in range(0, len(NAMED_DRAFTS), 3):
        drafts = [{"id": f"d{i}", "text": text} for i, text in enumerate(NAMED_DRAFTS[start:start + 3], start)]
        mix.append(("/v1/check/batch", {"json": {"drafts": drafts, "author": "Alex Kim"}}))
    mix.append(("/v1/check", {"json": {"text": NAMED_DRAFTS[2], "disable": ["titled-name"]}}))
    return mix


@pytest.fixture(scope="module")
def load_run(tmp_path_factory):
    server = start_server(tmp_path_factory.mktemp("load-server"), {})
    mix = request_mix()
    try:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            reference = [http.post(path, **kwargs) for path, kwargs in mix]
        assert all(r.status_code == 200 for r in reference)
        expected = [r.json() for r in reference]
        outcomes: Counter = Counter()
        mismatches: list[tuple[str, int]] = []
        worst = {"latency": 0.0}
        budget = iter(range(MAX_REQUESTS))
        stop_at = time.monotonic() + SECONDS
        lock = threading.Lock()

        def client(index: int) -> None:
            position = index
            with httpx.Client(base_url=server.url, timeout=60) as http:
                while time.monotonic() < stop_at and next(budget, None) is not None:
                    path, kwargs = mix[position % len(mix)]
                    started = time.monotonic()
                    try:
                        response = http.post(path, **kwargs)
                        status, same = response.status_code, response.status_code == 200 and \
                            response.json() == expected[position % len(mix)]
                    except httpx.HTTPError as error:
                        status, same = type(error).__name__, False
                    with lock:
                        worst["latency"] = max(worst["latency"], time.monotonic() - started)
                        outcomes[(path, status)] += 1
                        if status == 200 and not same:
                            mismatches.append((path, position % len(mix)))
                    position += CLIENTS

        threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        exit_code = server.stop()
    return server, outcomes, mismatches, worst["latency"], exit_code


def test_every_answer_under_load_is_the_single_client_answer(load_run):
    _, outcomes, mismatches, worst, _ = load_run
    total = sum(outcomes.values())
    print(f"{CLIENTS} clients, {SECONDS} s: {total} requests, {dict(outcomes)}, worst latency {worst:.2f} s")
    assert {status for _, status in outcomes} == {200}, dict(outcomes)
    assert not mismatches, mismatches[:5]
    assert {path for path, _ in outcomes} == {"/v1/check", "/v1/check/batch", "/v2/check"}
    assert total >= CLIENTS * 10, "the load really ran"


def test_no_draft_word_reaches_the_server_output_under_load(load_run):
    server, _, _, _, exit_code = load_run
    output = server.output()
    assert exit_code == 0
    assert output.count("postcheck.access POST") >= CLIENTS * 10
    leaked = [word for word in DISTINCTIVE_WORDS if word.lower() in output.lower()]
    assert not leaked, leaked
