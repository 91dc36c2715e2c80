"""`postcheck serve`: run the app under uvicorn with logging that can never carry a draft.

uvicorn's own access log prints the query string and the client address; it is switched off and
middleware.AccessLog writes one line a request instead (method, route, status, sizes, duration).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import logging.config
import socket
from typing import Any

import uvicorn
from uvicorn.protocols.http.auto import AutoHTTPProtocol

from checker.config import checker_options_from_env
from checker.errors import ConfigError
from checker.model import resolve_model_name
from checker.pipeline import Checker
from checker.rules import load_rules
from .app import create_app
from .settings import ServiceSettings

logger = logging.getLogger("postcheck.error")

LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "uvicorn": {"()": "uvicorn.logging.DefaultFormatter", "fmt": "%(levelprefix)s %(message)s"},
        "postcheck": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "uvicorn": {"class": "logging.StreamHandler", "formatter": "uvicorn", "stream": "ext://sys.stderr"},
        "access": {"class": "logging.StreamHandler", "formatter": "postcheck", "stream": "ext://sys.stdout"},
        "errors": {"class": "logging.StreamHandler", "formatter": "postcheck", "stream": "ext://sys.stderr"},
    },
    "loggers": {
        "uvicorn": {"handlers": ["uvicorn"], "level": "INFO", "propagate": False},
        "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        "postcheck.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
        "postcheck.error": {"handlers": ["errors"], "level": "INFO", "propagate": False},
    },
}


class NoDelayHTTPProtocol(AutoHTTPProtocol):
    """uvicorn's HTTP protocol with TCP_NODELAY on every connection.

    With --workers N, uvicorn binds the shared socket with proto 0, so asyncio never turns TCP_NODELAY on
    for accepted connections (uvicorn issue #3149) and every keep-alive response after the first waits
    ~40 ms for the client's delayed ACK: 56 ms instead of 9 ms a check, measured. Setting it here makes one
    worker and N workers answer alike.
    """

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)


def serve(host: str, port: int, workers: int) -> None:
    """Load everything, then serve until interrupted. Settings come from the environment (so that
    every worker process reads the same ones); a bad setting or a missing model fails here, with the
    CLI's one-line error, before anything listens."""
    settings = ServiceSettings.from_env()
    _check_can_listen(host, port)
    options: dict[str, Any] = dict(host=host, port=port, log_config=LOG_CONFIG, access_log=False,
                                   lifespan="on", server_header=False, proxy_headers=False,
                                   http=NoDelayHTTPProtocol)
    logging.config.dictConfig(LOG_CONFIG)
    if not settings.token and not _is_loopback(host):
        logger.warning("listening on %s without POSTCHECK_TOKEN: anyone who can reach this port can "
                       "submit drafts", host)
    if workers == 1:
        checker = Checker(max_chars=settings.max_chars, **checker_options_from_env())
        uvicorn.run(create_app(settings, checker), **options)
        return
    # Each worker loads its own Checker; check here that it will be able to, once, in the parent.
    checker_options = checker_options_from_env()
    resolve_model_name(checker_options["model"])
    load_rules(checker_options["rule_dirs"])
    uvicorn.run("postcheck_service.app:create_app", factory=True, workers=workers, **options)


def _check_can_listen(host: str, port: int) -> None:
    """A busy port or unknown host is the user's to fix: say so in one line (uvicorn would exit 3, which
    the CLI documents as 'model not installed')."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            probe.bind((host, port))
    except OSError as error:
        raise ConfigError(f"cannot listen on {host}:{port} ({error.strerror or error})") from None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
