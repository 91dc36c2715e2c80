"""Drafts are PHI: whatever a client sends, valid or not, none of it may appear in anything the server
writes. This drives every route and error path with distinctive identifiers, stops the server, and
searches all it printed."""

from __future__ import annotations

import json
import socket

import httpx
import pytest

from live_server import start_server

IDENTIFIERS = ("Quartermaine", "Zebulon", "4417-2290", "zq.ward7@example.net", "617-555-0143", "Wexford Lane")
DRAFT = ("Zebulon Quartermaine (MRN 4417-2290, zq.ward7@example.net, 617-555-0143) of 1893 Wexford Lane "
         "was admitted last night at 3am.")


@pytest.fixture(scope="module")
def privacy_run(tmp_path_factory):
    server = start_server(tmp_path_factory.mktemp("privacy-server"), {"POSTCHECK_MAX_CHARS": "2000",
                                                                       "POSTCHECK_MAX_BODY_BYTES": "50000",
                                                                       "POSTCHECK_HEADER_TIMEOUT": "2"})
    statuses = []
    errors = []
    try:
        with httpx.Client(base_url=server.url, timeout=60, headers={"X-Note": "Quartermaine"}) as http:
            def send(method, path, **kwargs):
                response = http.request(method, path, **kwargs)
                statuses.append(response.status_code)
                if response.status_code != 200:
                    errors.append(response.text)

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
            send("POST", "/v1/check/batch", json={"drafts": [{"id": "Quartermaine", "text": DRAFT}, {"text": " "}],
                                                  "disable": ["zebulon-quartermaine"]})
            send("POST", "/v2/check", data={"data": '{"annotation": ' + "[" * 5000 + "]" * 5000 + "}",
                                            "language": "en-US"})
            # The method a client writes in the request line is not ours to log either.
            send("Zebulon.Quartermaine_617-555-0143", "/healthz")
        # Malformed HTTP and a request head cut short, both carrying identifiers.
        raw(server.url, b"GET /Zebulon HTTP/1.1\r\nX-Patient: Quartermaine\r\nbroken header line\r\n\r\n")
        raw(server.url, b"POST /v1/check HTTP/1.1\r\nX-Patient: Quartermaine 617-555-0143\r\n")
    finally:
        exit_code = server.stop()
    return server, statuses, errors, exit_code


def raw(url: str, data: bytes) -> bytes:
    """Send bytes as they are and read what comes back until the server closes (header timeout 2 s)."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        conn.sendall(data)
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    return received


def test_no_request_content_reaches_the_logs(privacy_run):
    server, statuses, _, _ = privacy_run
    assert statuses == [200, 200, 422, 422, 422, 422, 422, 415, 413, 422, 200, 200, 422, 422, 404, 200,
                        422, 422, 405]
    output = server.output()
    access_lines = [line for line in output.splitlines() if "postcheck.access" in line]
    assert len(access_lines) == len(statuses) + 1, "one access line a request (+ the start-up health check)"
    assert "OTHER /healthz 405" in output
    for identifier in IDENTIFIERS:
        assert identifier.lower() not in output.lower(), f"{identifier!r} leaked into the server output"


def test_error_answers_echo_nothing_the_client_sent(privacy_run):
    _, statuses, errors, _ = privacy_run
    assert len(errors) == sum(status != 200 for status in statuses) == 14
    for identifier in IDENTIFIERS:
        assert not [body for body in errors if identifier.lower() in body.lower()], identifier


def test_server_stops_cleanly(privacy_run):
    server, _, _, exit_code = privacy_run
    assert exit_code == 0
    assert "Application shutdown complete" in server.output()
