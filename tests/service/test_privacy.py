"""Drafts are PHI: whatever a client sends, valid or not, none of it may appear in anything the server
writes. This drives every route and error path with distinctive identifiers, stops the server, and
searches all it printed."""

from __future__ import annotations

import json

import httpx
import pytest

from live_server import start_server

IDENTIFIERS = ("Quartermaine", "Zebulon", "4417-2290", "zq.ward7@example.net", "617-555-0143", "Wexford Lane")
DRAFT = ("Zebulon Quartermaine (MRN 4417-2290, zq.ward7@example.net, 617-555-0143) of 1893 Wexford Lane "
         "was admitted last night at 3am.")


@pytest.fixture(scope="module")
def privacy_run(tmp_path_factory):
    server = start_server(tmp_path_factory.mktemp("privacy-server"), {"POSTCHECK_MAX_CHARS": "2000",
                                                                       "POSTCHECK_MAX_BODY_BYTES": "50000"})
    statuses = []
    try:
        with httpx.Client(base_url=server.url, timeout=60, headers={"X-Note": "Quartermaine"}) as http:
            def send(method, path, **kwargs):
                statuses.append(http.request(method, path, **kwargs).status_code)

            send("POST", "/v1/check", json={"text": DRAFT, "author": "Zebulon"})
            send("POST", "/v1/check?patient=Quartermaine", json={"text": DRAFT})
            send("POST", "/v1/check", json={"text": DRAFT, "disable": ["quartermaine"]})
            send("POST", "/v1/check", json={"text": DRAFT * 20})  # over POSTCHECK_MAX_CHARS
            send("POST", "/v1/check", json={"text": [DRAFT]})
            send("POST", "/v1/check", json={"text": "fine", DRAFT: 1})
            send("POST", "/v1/check", content=DRAFT.encode()[:60], headers={"content-type": "application/json"})
            send("POST", "/v1/check", content=DRAFT.encode(), headers={"content-type": "text/plain"})
            send("POST", "/v1/check", json={"text": DRAFT * 400})  # over the body limit
            send("POST", "/v1/check/batch", json={"drafts": [{"id": "Quartermaine", "text": DRAFT}, {"text": ""}]})
            send("POST", "/v2/check", data={"text": DRAFT, "language": "en-US"})
            send("POST", "/v2/check", data={"data": json.dumps({"annotation": [{"text": DRAFT}]}), "language": "auto"})
            send("POST", "/v2/check", data={"text": DRAFT, "language": "Quartermaine"})
            send("POST", "/v2/check", data={"data": DRAFT, "language": "en"})
            send("GET", "/patients/Zebulon-Quartermaine?mrn=4417-2290")
            send("GET", "/v1/rules?q=Wexford Lane")
    finally:
        exit_code = server.stop()
    return server, statuses, exit_code


def test_no_request_content_reaches_the_logs(privacy_run):
    server, statuses, _ = privacy_run
    assert statuses == [200, 200, 422, 422, 422, 422, 422, 415, 413, 200, 200, 200, 422, 422, 404, 200]
    output = server.output()
    access_lines = [line for line in output.splitlines() if "postcheck.access" in line]
    assert len(access_lines) == len(statuses) + 1, "one access line a request (+ the start-up health check)"
    for identifier in IDENTIFIERS:
        assert identifier.lower() not in output.lower(), f"{identifier!r} leaked into the server output"


def test_server_stops_cleanly(privacy_run):
    server, _, exit_code = privacy_run
    assert exit_code == 0
    assert "Application shutdown complete" in server.output()
