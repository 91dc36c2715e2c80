"""Connection hygiene for the HTTP front: no client can hold a connection, a file descriptor or the log.

uvicorn's h11 protocol arms a timer only after a response (keep-alive), so a connection that never
finishes a request head stays open for ever, and nothing caps how many there are: under a 1,024-file
limit, 1,100 idle sockets left no descriptor to accept anyone with, and asyncio logged a traceback for
every failed accept. `GuardedHTTPProtocol` adds:

- a header timeout: a request head (request line and headers) must arrive within
  POSTCHECK_HEADER_TIMEOUT seconds of the connection opening or of its first byte after a keep-alive
  pause (408 if part of it came, a plain close if nothing did);
- a send timeout: a response the client stops reading is dropped after POSTCHECK_BODY_TIMEOUT seconds
  (the body-read half of that setting is middleware.BodyLimit's, where the body is read);
- a cap on open connections, kept below the open-file limit with room for what asyncio accepts
  before a protocol counts it (`connection_budget`, which also sizes the listen backlog): at the cap, a
  new connection closes the connection that has been idle longest with no request in progress, or is
  refused with 503 when every connection has one;
- TCP_NODELAY on every connection, so keep-alive answers never wait for a delayed ACK;
- its own JSON 400 for malformed HTTP instead of uvicorn's plain-text one.

Repeated log lines (refusals, malformed requests, accept errors) are condensed by `CondenseRepeats`
to one per minute per kind, with a count of those dropped.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import resource
import socket
import time
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, ClassVar

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from checker.errors import ConfigError
from .schemas import ErrorResponse

# Its own logger, condensed (server.LOG_CONFIG): what clients can make happen a thousand times a second.
logger = logging.getLogger("postcheck.connections")

# Descriptors the front needs besides client connections: the listening socket, the event loop's own,
# stdout/stderr, and per check worker its channel, its exit sentinel and the pipes a restart opens.
RESERVED_FDS = 64
FDS_PER_WORKER = 6
# Fewer connections than this is no service at all: say so at start-up instead.
MIN_CONNECTIONS = 8
# uvicorn's default listen backlog, and the least worth having.
MAX_BACKLOG = 2048
MIN_BACKLOG = 16
# Passes of the event loop between accepting a connection and counting it (creating its transport,
# then its protocol's connection_made, then closing an evicted one), each of which may accept a backlog.
ACCEPT_PASSES_IN_FLIGHT = 4
CONDENSE_INTERVAL_S = 60.0


@dataclass(frozen=True)
class ConnectionLimits:
    max_connections: int = 512
    header_timeout: float = 10.0
    send_timeout: float = 30.0


def raise_open_file_limit() -> int:
    """Raise this process's soft RLIMIT_NOFILE to its hard limit (which needs no privilege), and return
    the soft limit in force. Each connection is a descriptor, so this is what bounds them."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


@dataclass(frozen=True)
class ConnectionBudget:
    max_connections: int
    backlog: int  # the listen queue, and the most connections asyncio accepts in one pass


def connection_budget(requested: int, workers: int, soft_limit: int) -> ConnectionBudget:
    """The most client connections that fit under the open-file limit with room for everything else.

    asyncio accepts up to `backlog` connections per pass of the event loop, and a connection is counted
    (and the cap enforced) only a few passes later, when its protocol starts; so a few backlogs' worth of
    descriptors are kept free as well, and the backlog is sized to the limit."""
    try:
        open_now = len(os.listdir("/proc/self/fd"))
    except OSError:
        open_now = 16
    spare = soft_limit - open_now - RESERVED_FDS - FDS_PER_WORKER * workers
    backlog = max(MIN_BACKLOG, min(MAX_BACKLOG, spare // (ACCEPT_PASSES_IN_FLIGHT * 2)))
    available = spare - ACCEPT_PASSES_IN_FLIGHT * backlog
    if available < MIN_CONNECTIONS:
        raise ConfigError(f"the open-file limit ({soft_limit}) leaves room for {max(available, 0)} connections; "
                          "raise it (ulimit -n)")
    return ConnectionBudget(min(requested, available), backlog)


class GuardedHTTPProtocol(H11Protocol):
    """uvicorn's h11 protocol with the timeouts, the connection cap and the quiet 400 described above.
    `limits` is set on a subclass made per server (`protocol_with`)."""

    limits: ClassVar[ConnectionLimits] = ConnectionLimits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.last_active = 0.0
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_bytes = 0  # bytes received of a request head not yet complete
        self._send_timer: asyncio.TimerHandle | None = None

    # -- asyncio.Protocol -------------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
        self.last_active = self.loop.time()
        self._arm_head_timer()
        if len(self.connections) > self.limits.max_connections:
            self._make_room()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self.last_active = self.loop.time()
        if not self.in_request():
            self._head_bytes += len(data)
            if self._head_timer is None:
                self._arm_head_timer()
        super().data_received(data)
        if self.in_request():
            self._cancel_head_timer()
            self._head_bytes = 0

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._send_timer is None:
            self._send_timer = self.loop.call_later(self.limits.send_timeout, self._send_timed_out)

    def resume_writing(self) -> None:
        super().resume_writing()
        if self._send_timer is not None:
            self._send_timer.cancel()
            self._send_timer = None

    # -- uvicorn hooks ----------------------------------------------------------------------------------
    def on_response_complete(self) -> None:
        self.last_active = self.loop.time()
        self._head_bytes = 0
        super().on_response_complete()

    def send_400_response(self, msg: str) -> None:
        """Malformed HTTP (or a head over h11's size limit): our JSON error shape, then close."""
        body = _error_body("bad_request", "malformed HTTP request")
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                   (b"connection", b"close")]
        for event in (h11.Response(status_code=400, headers=headers, reason=b"Bad Request"),
                      h11.Data(data=body), h11.EndOfMessage()):
            self.transport.write(self.conn.send(event))
        self.transport.close()

    # -- state ------------------------------------------------------------------------------------------
    def in_request(self) -> bool:
        """True from a complete request head until its response is sent: the app is working on it."""
        return self.cycle is not None and not self.cycle.response_complete

    # -- internals --------------------------------------------------------------------------------------
    def _arm_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(self.limits.header_timeout, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _cancel_timers(self) -> None:
        self._cancel_head_timer()
        if self._send_timer is not None:
            self._send_timer.cancel()
            self._send_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or self.in_request():
            return
        if self._head_bytes:
            self._write_raw(408, "request_timeout", "the request head did not arrive in time "
                            "(POSTCHECK_HEADER_TIMEOUT)")
        self.transport.close()

    def _send_timed_out(self) -> None:
        # The client stopped reading: close() would wait for a flush that never comes, so abort.
        self._send_timer = None
        self.transport.abort()

    def _make_room(self) -> None:
        idle = [c for c in self.connections if c is not self and isinstance(c, GuardedHTTPProtocol)
                and not c.in_request() and not c.transport.is_closing()]
        if idle:
            min(idle, key=lambda c: c.last_active).transport.close()
            logger.warning("connection limit (%d) reached: closing the longest-idle connections to make "
                           "room for new ones", self.limits.max_connections)
            return
        self._write_raw(503, "busy", "too many open connections; try again shortly", retry_after=1)
        self.transport.close()
        logger.warning("connection limit (%d) reached with a request on every connection: refusing new "
                       "connections", self.limits.max_connections)

    def _write_raw(self, status: int, code: str, message: str, retry_after: int | None = None) -> None:
        """An answer written before (or instead of) any request h11 could hand us."""
        body = _error_body(code, message)
        head = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}", "content-type: application/json",
                f"content-length: {len(body)}", "connection: close"]
        if retry_after is not None:
            head.append(f"retry-after: {retry_after}")
        self.transport.write(("\r\n".join(head) + "\r\n\r\n").encode("ascii") + body)


def protocol_with(limits: ConnectionLimits) -> type[GuardedHTTPProtocol]:
    return type("GuardedHTTPProtocol", (GuardedHTTPProtocol,), {"limits": limits})


def _error_body(code: str, message: str) -> bytes:
    return ErrorResponse(error=code, message=message).model_dump_json().encode()


class CondenseRepeats(logging.Filter):
    """Pass at most one record per logger and message template every `interval` seconds; the next one
    that passes says how many were dropped. A flood of refusals or accept errors becomes a line a minute.
    """

    def __init__(self, interval: float = CONDENSE_INTERVAL_S, clock=time.monotonic):
        super().__init__()
        self.interval = interval
        self.clock = clock
        self._last: dict[tuple[str, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, str(record.msg))
        now = self.clock()
        last, dropped = self._last.get(key, (None, 0))
        if last is not None and now - last < self.interval:
            self._last[key] = (last, dropped + 1)
            return False
        self._last[key] = (now, 0)
        if dropped:
            record.msg = f"{record.msg} [{dropped} more like this in the last {self.interval:g} s]"
        return True


def quiet_loop_errors(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """The event loop's exception handler. asyncio's own prints the context (reprs of callbacks and
    their arguments, which could hold request data) and a traceback, once per failed accept; this logs
    one fixed line per kind of error, condensed like every other repeated line."""
    exc = context.get("exception")
    if isinstance(exc, OSError) and exc.errno in (errno.EMFILE, errno.ENFILE):
        logger.error("out of file descriptors (%s); connections wait in the listen queue until some "
                     "close", errno.errorcode[exc.errno])
    elif exc is not None:
        logger.error("unhandled %s in the event loop" % type(exc).__name__)
    else:
        logger.error("event loop error without an exception")
