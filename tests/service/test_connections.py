"""No client can hold the front's connections, descriptors or log: header and body timeouts, the cap
on open connections (closing the longest-idle one, or refusing when all are busy), responses a client
never reads, malformed HTTP, and condensed logging. First in-process against the protocol with a tiny
ASGI app (fast, exact), then against the real server under a 1,024-file limit."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import os
import resource
import socket
import time
from typing import AsyncIterator

import anyio
import httpx
import pytest
import uvicorn
from uvicorn.server import ServerState

from drafts import NAMED_DRAFTS
from live_server import start_server
from checker.errors import ConfigError
from postcheck_service.connections import (
    ACCEPT_PASSES_IN_FLIGHT,
    MIN_CONNECTIONS,
    RESERVED_FDS,
    ConnectionLimits,
    CondenseRepeats,
    connection_budget,
    protocol_with,
    quiet_loop_errors,
)
from postcheck_service.middleware import BodyLimit

# Liveness bounds, generous on purpose: these say "answered at all", not "answered fast".
ANSWERS_WITHIN_S = 5


# -- in-process: the protocol with a tiny app -----------------------------------------------------------

async def tiny_app(scope, receive, send):
    """/ answers at once; /slow waits for `release`; /big answers 64 MB, a megabyte at a time."""
    if scope["type"] != "http":
        return
    if scope["path"] == "/slow":
        await scope["state"]["release"].wait()
    chunks = [b"x" * (1 << 20)] * 64 if scope["path"] == "/big" else [b"ok"]
    length = str(sum(map(len, chunks))).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", length)]})
    for index, chunk in enumerate(chunks):
        await send({"type": "http.response.body", "body": chunk, "more_body": index < len(chunks) - 1})
    scope["state"]["finished"].append(scope["path"])


@contextlib.asynccontextmanager
async def guarded(limits: ConnectionLimits) -> AsyncIterator[tuple[int, ServerState, dict]]:
    """Serve tiny_app with the guarded protocol on a loopback port, from a listener bound with proto 0
    (as one passed in by a supervisor is), so asyncio itself does not set TCP_NODELAY."""
    config = uvicorn.Config(tiny_app, http=protocol_with(limits), ws="none", lifespan="off", log_config=None,
                            access_log=False, proxy_headers=False)
    config.load()
    state = ServerState()
    app_state = {"release": asyncio.Event(), "finished": []}
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 0)
    listener.bind(("127.0.0.1", 0))
    server = await asyncio.get_running_loop().create_server(
        lambda: config.http_protocol_class(config=config, server_state=state, app_state=app_state), sock=listener)
    try:
        yield listener.getsockname()[1], state, app_state
    finally:
        app_state["release"].set()
        for connection in list(state.connections):
            connection.transport.abort()
        server.close()
        await server.wait_closed()


async def read_until_closed(reader: asyncio.StreamReader, within: float) -> bytes:
    return await asyncio.wait_for(reader.read(), within)


async def still_open(reader: asyncio.StreamReader, for_s: float = 0.3) -> bool:
    try:
        return await asyncio.wait_for(reader.read(1), for_s) != b""
    except TimeoutError:
        return True


def test_every_connection_gets_tcp_nodelay():
    async def scenario():
        async with guarded(ConnectionLimits()) as (port, state, _):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            while not state.connections:
                await asyncio.sleep(0.01)
            sock = next(iter(state.connections)).transport.get_extra_info("socket")
            nodelay = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
            writer.close()
            return nodelay

    assert anyio.run(scenario) == 1


def test_a_request_head_must_arrive_within_the_header_timeout():
    async def scenario():
        async with guarded(ConnectionLimits(header_timeout=0.3)) as (port, _, _):
            silent_reader, silent_writer = await asyncio.open_connection("127.0.0.1", port)
            partial_reader, partial = await asyncio.open_connection("127.0.0.1", port)
            partial.write(b"POST / HTTP/1.1\r\nHost: x\r\n")
            drip_reader, drip = await asyncio.open_connection("127.0.0.1", port)
            started = time.monotonic()

            async def drip_feed():  # a byte every 0.05 s never resets the clock
                for byte in b"GET / HTTP/1.1\r\nX-Long-Header: " + b"a" * 100:
                    drip.write(bytes([byte]))
                    await asyncio.sleep(0.05)

            feeding = asyncio.ensure_future(drip_feed())
            silent = await read_until_closed(silent_reader, ANSWERS_WITHIN_S)
            answer = await read_until_closed(partial_reader, ANSWERS_WITHIN_S)
            dripped = await read_until_closed(drip_reader, ANSWERS_WITHIN_S)
            elapsed = time.monotonic() - started
            feeding.cancel()
            assert not silent_writer.is_closing(), "the client kept its end open; the server closed"
            good_reader, good = await asyncio.open_connection("127.0.0.1", port)
            good.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            served = await asyncio.wait_for(good_reader.readuntil(b"ok"), ANSWERS_WITHIN_S)
            return silent, answer, dripped, elapsed, served

    silent, answer, dripped, elapsed, served = anyio.run(scenario)
    assert silent == b"", "a connection that sent nothing is closed without an answer"
    assert answer.startswith(b"HTTP/1.1 408 ") and b'"error":"request_timeout"' in answer
    assert dripped.startswith(b"HTTP/1.1 408 ")
    assert elapsed < 0.3 + 1.5, "the drip-fed head did not extend the deadline"
    assert served.startswith(b"HTTP/1.1 200 ")


def test_at_the_cap_the_longest_idle_connection_makes_room():
    async def scenario():
        async with guarded(ConnectionLimits(max_connections=3, header_timeout=30)) as (port, state, _):
            idle = []
            for _ in range(3):
                idle.append(await asyncio.open_connection("127.0.0.1", port))
                while len(state.connections) < len(idle):
                    await asyncio.sleep(0.01)
                await asyncio.sleep(0.02)
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            served = await asyncio.wait_for(reader.readuntil(b"ok"), ANSWERS_WITHIN_S)
            oldest_closed = await read_until_closed(idle[0][0], ANSWERS_WITHIN_S)
            others_open = [await still_open(r) for r, _ in idle[1:]]
            return served, oldest_closed, others_open

    served, oldest_closed, others_open = anyio.run(scenario)
    assert served.startswith(b"HTTP/1.1 200 ")
    assert oldest_closed == b"", "the longest-idle connection was closed, without an answer"
    assert others_open == [True, True]


def test_at_the_cap_with_a_request_on_every_connection_new_ones_are_refused():
    async def scenario():
        async with guarded(ConnectionLimits(max_connections=2)) as (port, state, app_state):
            busy = []  # (reader, writer): a writer dropped is a connection closed
            for _ in range(2):
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
                busy.append((reader, writer))
            while sum(c.in_request() for c in list(state.connections)) < 2:
                await asyncio.sleep(0.01)
            refused_reader, refused_writer = await asyncio.open_connection("127.0.0.1", port)
            refused = await read_until_closed(refused_reader, ANSWERS_WITHIN_S)
            app_state["release"].set()
            answers = [await asyncio.wait_for(r.readuntil(b"ok"), ANSWERS_WITHIN_S) for r, _ in busy]
            refused_writer.close()
            return refused, answers

    refused, answers = anyio.run(scenario)
    head, _, body = refused.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 503 ") and b"retry-after: 1" in head
    assert json.loads(body)["error"] == "busy"
    assert all(answer.startswith(b"HTTP/1.1 200 ") for answer in answers), "requests in progress keep going"


def test_a_response_the_client_stops_reading_is_dropped():
    async def scenario():
        async with guarded(ConnectionLimits(send_timeout=0.5)) as (port, state, app_state):
            reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1024)
            writer.transport.pause_reading()  # and never read the 64 MB
            writer.write(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
            deadline = time.monotonic() + ANSWERS_WITHIN_S
            while (state.connections or not app_state["finished"]) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            return len(state.connections), app_state["finished"]

    open_connections, finished = anyio.run(scenario)
    assert open_connections == 0, "the stalled connection was aborted"
    assert finished == ["/big"], "the app's send returned instead of waiting for ever"


def test_malformed_http_gets_a_json_400():
    async def scenario():
        async with guarded(ConnectionLimits()) as (port, _, _):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET / HTTP/1.1\r\nthis is no header\r\n\r\n")
            return await read_until_closed(reader, ANSWERS_WITHIN_S)

    head, _, body = anyio.run(scenario).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ") and b"content-type: application/json" in head
    assert json.loads(body) == {"error": "bad_request", "message": "malformed HTTP request", "fields": []}


def test_a_body_must_arrive_within_the_body_timeout():
    sent = []

    async def never(*_):
        await asyncio.sleep(3600)

    async def app(scope, receive, send):
        raise AssertionError("the app must not see a body that never arrived")

    async def scenario():
        async def receive():
            if not sent:
                sent.append("first")
                return {"type": "http.request", "body": b'{"text": "Mrs.', "more_body": True}
            await never()

        messages = []

        async def send(message):
            messages.append(message)

        scope = {"type": "http", "method": "POST", "path": "/v1/check", "headers": []}
        await asyncio.wait_for(BodyLimit(app, max_bytes=1000, timeout=0.2)(scope, receive, send), ANSWERS_WITHIN_S)
        return messages

    messages = anyio.run(scenario)
    assert messages[0]["status"] == 408 and (b"connection", b"close") in messages[0]["headers"]
    assert json.loads(messages[1]["body"])["error"] == "request_timeout"


@pytest.mark.parametrize("soft_limit, requested", [(1024, 100_000), (1024, 100), (65536, 512), (1 << 20, 512)])
def test_the_connection_cap_and_backlog_fit_under_the_file_limit(soft_limit, requested):
    budget = connection_budget(requested, workers=2, soft_limit=soft_limit)
    open_now = len(os.listdir("/proc/self/fd"))
    in_flight = ACCEPT_PASSES_IN_FLIGHT * budget.backlog  # accepted, not yet counted against the cap
    assert open_now + budget.max_connections + in_flight + RESERVED_FDS <= soft_limit
    assert budget.max_connections <= requested and budget.max_connections >= MIN_CONNECTIONS
    assert 16 <= budget.backlog <= 2048
    if soft_limit >= 65536:
        assert (budget.max_connections, budget.backlog) == (requested, 2048)


def test_a_file_limit_too_small_to_serve_is_a_config_error():
    with pytest.raises(ConfigError, match=r"the open-file limit \(120\) leaves room for"):
        connection_budget(512, workers=2, soft_limit=120)


def test_repeated_log_lines_are_condensed_to_one_a_minute():
    now = [0.0]
    condense = CondenseRepeats(interval=60, clock=lambda: now[0])

    def record(message, *args):
        return logging.LogRecord("postcheck.connections", logging.WARNING, __file__, 1, message, args, None)

    passed = []
    for second in range(0, 150):
        now[0] = float(second)
        for _ in range(100):  # a hundred refusals a second
            line = record("connection limit (%d) reached", 924)
            if condense.filter(line):
                passed.append((second, line.getMessage()))
        other = record("a different notice")
        if second == 5 and condense.filter(other):
            passed.append((second, other.getMessage()))
    assert passed == [(0, "connection limit (924) reached"), (5, "a different notice"),
                      (60, "connection limit (924) reached [5999 more like this in the last 60 s]"),
                      (120, "connection limit (924) reached [5999 more like this in the last 60 s]")]


def test_event_loop_errors_are_logged_as_one_fixed_line(caplog):
    loop = asyncio.new_event_loop()
    condense = CondenseRepeats()
    logging.getLogger("postcheck.connections").addFilter(condense)
    try:
        with caplog.at_level(logging.INFO, logger="postcheck.connections"):
            for _ in range(1000):
                quiet_loop_errors(loop, {"message": "socket.accept() out of system resource",
                                         "exception": OSError(errno.EMFILE, "Too many open files")})
            quiet_loop_errors(loop, {"message": "Exception in callback check('Mrs. Thistlewood')",
                                     "exception": ValueError("could not handle 'Mrs. Thistlewood'")})
    finally:
        logging.getLogger("postcheck.connections").removeFilter(condense)
        loop.close()
    messages = [record.getMessage() for record in caplog.records]
    assert messages == ["out of file descriptors (EMFILE); connections wait in the listen queue until some close",
                        "unhandled ValueError in the event loop"]
    assert not any(record.exc_info for record in caplog.records)


# -- the real server under a 1,024-file limit -----------------------------------------------------------

OPEN_FILES = 1024
IDLE_SOCKETS = 1100


@pytest.fixture(scope="module")
def tight_server(tmp_path_factory):
    """RLIMIT_NOFILE 1,024 soft and hard, and no connection cap of its own below that: the cap the
    server derives from the file limit is what is tested. Body timeout 2 s for the slow-body test."""
    env = {"POSTCHECK_MAX_CONNECTIONS": "100000", "POSTCHECK_BODY_TIMEOUT": "2"}
    running = start_server(tmp_path_factory.mktemp("tight-server"), env, open_files=OPEN_FILES)
    yield running
    running.stop()


@pytest.fixture
def many_files():
    """This test process needs a descriptor per idle socket too."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = IDLE_SOCKETS + 512
    if hard != resource.RLIM_INFINITY and hard < wanted:
        pytest.skip(f"the hard open-file limit ({hard}) is below {wanted}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_idle_sockets_cannot_lock_out_a_new_client(tight_server, many_files, checker):
    host, port = tight_server.url.removeprefix("http://").split(":")
    # A small file limit means a small listen queue: connecting 1,100 at once may take some SYN retries.
    idle = [socket.create_connection((host, int(port)), timeout=60) for _ in range(IDLE_SOCKETS)]
    try:
        started = time.monotonic()
        with httpx.Client(base_url=tight_server.url, timeout=ANSWERS_WITHIN_S) as http:
            assert http.get("/healthz").status_code == 200
            draft = NAMED_DRAFTS[0]
            assert http.post("/v1/check", json={"text": draft}).json() == checker.check(draft).to_dict()
        served_after = time.monotonic() - started
        closed = 0
        for sock in idle:
            sock.setblocking(False)
            try:
                closed += sock.recv(1) == b""
            except BlockingIOError:
                pass
    finally:
        for sock in idle:
            sock.close()
    print(f"new client served {served_after:.2f} s after {IDLE_SOCKETS} idle sockets; the server closed {closed}")
    assert served_after < ANSWERS_WITHIN_S
    assert closed >= IDLE_SOCKETS - OPEN_FILES, "idle connections were closed to stay under the file limit"
    output = tight_server.output()
    assert "out of file descriptors" not in output, "the cap keeps the server below its file limit"
    assert "Too many open files" not in output and "Traceback" not in output
    assert len(output) < 20_000, "no log flood"


def test_a_request_head_sent_slowly_is_cut_off(tight_server):
    """Slowloris: a header line a byte every 0.5 s, for ever. The header timeout (default 10 s) ends
    it with a 408 however busy the client keeps it."""
    host, port = tight_server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        conn.sendall(b"POST /v1/check HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        started = time.monotonic()
        answer = b""
        conn.settimeout(0.5)
        while time.monotonic() - started < 30:
            try:
                chunk = conn.recv(65536)
            except socket.timeout:
                if not answer:
                    conn.sendall(b"X")
                continue
            if not chunk:
                break
            answer += chunk
        elapsed = time.monotonic() - started
    assert elapsed < 10 + ANSWERS_WITHIN_S
    assert answer.startswith(b"HTTP/1.1 408 ")


def test_a_body_sent_slowly_is_cut_off(tight_server):
    host, port = tight_server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        conn.sendall(b"POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 1000\r\n\r\n{\"text\": \"Mrs. Quillonia")
        started = time.monotonic()
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
        elapsed = time.monotonic() - started
    assert elapsed < 2 + ANSWERS_WITHIN_S
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 ") and json.loads(body)["error"] == "request_timeout"
    assert "POST /v1/check 408" in tight_server.stdout_path.read_text()
