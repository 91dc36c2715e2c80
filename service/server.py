"""`postcheck serve`: one HTTP front process (uvicorn, asyncio) and a pool of check worker processes.

    front     parses HTTP and JSON, validates requests, queues jobs, answers /healthz and /v1/rules from
              what the workers reported at start-up; never loads the model, never parses a draft
    workers   `--workers N` processes (default 2), each with its own Checker (service/pool.py)

Start-up order: settings (a bad one exits 2), the port (busy: exit 2), the workers (a missing model
exits 3, a broken rule file 2), and only then the listening socket, so the server listens only once it
can check. Logging can never carry a draft: uvicorn's access log (query string, client address) is off
and middleware.AccessLog writes one line a request instead. What clients can make happen at will
(malformed requests, refused connections, accept errors) is logged condensed, a line a minute per kind.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import logging.config
import signal
import socket
from typing import Any, Iterator

import uvicorn

from checker.config import checker_options_from_env
from checker.errors import ConfigError
from .app import create_app
from .connections import (
    ConnectionLimits,
    connection_budget,
    protocol_with,
    quiet_loop_errors,
    raise_open_file_limit,
)
from .pool import WorkerPool
from .settings import ServiceSettings

logger = logging.getLogger("postcheck.error")
# How long Ctrl-C waits for requests in flight before cancelling them (a check past its deadline is
# stopped anyway).
GRACEFUL_SHUTDOWN_S = 10

LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"condense": {"()": "postcheck_service.connections.CondenseRepeats"}},
    "formatters": {
        "uvicorn": {"()": "uvicorn.logging.DefaultFormatter", "fmt": "%(levelprefix)s %(message)s"},
        "postcheck": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "uvicorn": {"class": "logging.StreamHandler", "formatter": "uvicorn", "stream": "ext://sys.stderr",
                    "filters": ["condense"]},
        "access": {"class": "logging.StreamHandler", "formatter": "postcheck", "stream": "ext://sys.stdout"},
        "errors": {"class": "logging.StreamHandler", "formatter": "postcheck", "stream": "ext://sys.stderr"},
        "condensed": {"class": "logging.StreamHandler", "formatter": "postcheck", "stream": "ext://sys.stderr",
                      "filters": ["condense"]},
    },
    "loggers": {
        "uvicorn": {"handlers": ["uvicorn"], "level": "INFO", "propagate": False},
        "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        "postcheck.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
        "postcheck.error": {"handlers": ["errors"], "level": "INFO", "propagate": False},
        "postcheck.connections": {"handlers": ["condensed"], "level": "INFO", "propagate": False},
        "asyncio": {"handlers": ["condensed"], "level": "WARNING", "propagate": False},
    },
}


class FrontServer(uvicorn.Server):
    """uvicorn's server with its signal handling on the event loop, and without re-raising the signal
    once it has stopped (uvicorn does, for `uvicorn.run`, which then swallows the KeyboardInterrupt):
    here the worker pool still has to be stopped after the server is."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.handle_exit, sig, None)
        try:
            yield
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)


def serve(host: str, port: int, workers: int) -> None:
    """Load everything, then serve until interrupted. Settings come from the environment; a bad
    setting, a busy port or a missing model fails here, with the CLI's one-line error, before anything
    listens."""
    settings = ServiceSettings.from_env()
    listener = _bind(host, port)
    logging.config.dictConfig(LOG_CONFIG)
    if not settings.token and not _is_loopback(host):
        logger.warning("listening on %s without POSTCHECK_TOKEN: anyone who can reach this port can "
                       "submit drafts", host)
    open_files = raise_open_file_limit()
    with listener:
        asyncio.run(_serve(settings, listener, workers, open_files))


async def _serve(settings: ServiceSettings, listener: socket.socket, workers: int, open_files: int) -> None:
    asyncio.get_running_loop().set_exception_handler(quiet_loop_errors)
    pool = WorkerPool(settings, workers)
    await pool.start()
    try:
        budget = connection_budget(settings.max_connections, workers, open_files)
        if budget.max_connections < settings.max_connections:
            logger.warning("at most %d open connections (POSTCHECK_MAX_CONNECTIONS is %d; the open-file "
                           "limit is %d)", budget.max_connections, settings.max_connections, open_files)
        limits = ConnectionLimits(max_connections=budget.max_connections, header_timeout=settings.header_timeout,
                                  send_timeout=settings.body_timeout)
        config = uvicorn.Config(
            create_app(settings, checks=pool), http=protocol_with(limits), ws="none", backlog=budget.backlog,
            lifespan="on", log_config=None, access_log=False, server_header=False, proxy_headers=False,
            timeout_keep_alive=settings.keepalive_timeout,  # type: ignore[arg-type]  # seconds, float
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        )
        host, port = listener.getsockname()[:2]
        logger.info("postcheck serving on http://%s:%d with %d check worker%s (Press CTRL+C to quit)",
                    f"[{host}]" if ":" in host else host, port, workers, "s" if workers > 1 else "")
        await FrontServer(config).serve(sockets=[listener])
    finally:
        await pool.stop()


def _bind(host: str, port: int) -> socket.socket:
    """Bind the address first (it listens only once the workers are loaded): a busy port or unknown host
    is the user's to fix, said in one line (uvicorn would exit 3, which the CLI documents as 'model
    not installed')."""
    try:
        family, _, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        listener = socket.socket(family, socket.SOCK_STREAM, proto)
    except OSError as error:
        raise ConfigError(f"cannot listen on {host}:{port} ({error.strerror or error})") from None
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
    except OSError as error:
        listener.close()
        raise ConfigError(f"cannot listen on {host}:{port} ({error.strerror or error})") from None
    return listener


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
