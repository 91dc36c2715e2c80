"""Service settings, read from the environment only (never from a config file in anyone's home).

    POSTCHECK_TOKEN               bearer token every route but /healthz requires (unset: no token)
    POSTCHECK_CORS_ORIGINS        comma-separated origins allowed to call from a browser (unset: CORS off);
                                  chrome-extension://ID, moz-extension://ID, safari-web-extension://ID or
                                  http(s)://host[:port]. "*" is refused: the drafts are PHI.
    POSTCHECK_MAX_BODY_BYTES      largest request body accepted (default 1 MiB); bigger gets 413
    POSTCHECK_MAX_BATCH           most drafts in one /v1/check/batch request (default 100); more gets 413
    POSTCHECK_MAX_CHARS           longest draft accepted (default: the library's, 50,000 characters)
    POSTCHECK_TIMEOUT             seconds one check job may run in a worker, and wait for one (default 20)
    POSTCHECK_QUEUE               most requests waiting for a check worker (default 64); more get 503
    POSTCHECK_MAX_CONNECTIONS     most open client connections (default 512; lowered to fit the open-file
                                  limit); at the limit the longest-idle connection is closed for a new one
    POSTCHECK_HEADER_TIMEOUT      seconds a client has to send a request's head (default 10)
    POSTCHECK_BODY_TIMEOUT        seconds a client has to send a request's body, or to read a response
                                  it has stopped reading (default 30)
    POSTCHECK_KEEPALIVE_TIMEOUT   seconds an idle keep-alive connection stays open (default 5)

The model and extra rule packs come from POSTCHECK_MODEL and POSTCHECK_RULES, as for the CLI, and rules
or words to allow from the file POSTCHECK_CONFIG names, if it is set (checker.config.checker_options_from_env).
The server never reads its own account's config file or a project config in its working directory.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from typing import Mapping

from checker.errors import ConfigError
from checker.pipeline import DEFAULT_MAX_CHARS

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
DEFAULT_MAX_BATCH = 100
# A 50,000-character draft takes about 3 s on one core of the 2-core reference machine, and up to twice
# that while the other core is busy too; 20 s leaves room for a slower machine and still frees a
# worker from a runaway check.
DEFAULT_TIMEOUT_S = 20.0
DEFAULT_QUEUE = 64
DEFAULT_MAX_CONNECTIONS = 512
DEFAULT_HEADER_TIMEOUT_S = 10.0
DEFAULT_BODY_TIMEOUT_S = 30.0
DEFAULT_KEEPALIVE_TIMEOUT_S = 5.0
# Browser-extension origins carry the extension's id; web origins are scheme, host and optional port.
_ORIGIN = re.compile(
    r"^(?:(?:chrome|moz|safari-web)-extension://[A-Za-z0-9-]+"
    r"|https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?)$"
)
# What a client can send back byte for byte in an Authorization header: visible ASCII, no spaces.
_TOKEN = re.compile(r"^[\x21-\x7e]+$")


@dataclass(frozen=True)
class ServiceSettings:
    token: str | None = None
    cors_origins: tuple[str, ...] = ()
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_batch: int = DEFAULT_MAX_BATCH
    max_chars: int = DEFAULT_MAX_CHARS
    model: str | None = None
    check_timeout: float = DEFAULT_TIMEOUT_S
    max_queue: int = DEFAULT_QUEUE
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    header_timeout: float = DEFAULT_HEADER_TIMEOUT_S
    body_timeout: float = DEFAULT_BODY_TIMEOUT_S
    keepalive_timeout: float = DEFAULT_KEEPALIVE_TIMEOUT_S

    def __post_init__(self) -> None:
        # The message never repeats the token: it is a secret, and may be a pasted one.
        if self.token is not None and not _TOKEN.match(self.token):
            raise ConfigError("POSTCHECK_TOKEN must be printable ASCII (letters, digits, punctuation) with no "
                              "spaces or control characters inside, and not blank")
        for origin in self.cors_origins:
            if not _ORIGIN.match(origin):
                raise ConfigError(
                    f"POSTCHECK_CORS_ORIGINS: '{origin}' is not an extension origin "
                    "(chrome-extension://ID, moz-extension://ID) or a web origin (https://host[:port]); "
                    "'*' is not allowed"
                )
        for name, value in (("POSTCHECK_MAX_BODY_BYTES", self.max_body_bytes),
                            ("POSTCHECK_MAX_BATCH", self.max_batch), ("POSTCHECK_MAX_CHARS", self.max_chars),
                            ("POSTCHECK_QUEUE", self.max_queue),
                            ("POSTCHECK_MAX_CONNECTIONS", self.max_connections)):
            if value < 1:
                raise ConfigError(f"{name} must be a whole number of at least 1")
        for name, seconds in (("POSTCHECK_TIMEOUT", self.check_timeout),
                              ("POSTCHECK_HEADER_TIMEOUT", self.header_timeout),
                              ("POSTCHECK_BODY_TIMEOUT", self.body_timeout),
                              ("POSTCHECK_KEEPALIVE_TIMEOUT", self.keepalive_timeout)):
            if not (math.isfinite(seconds) and seconds > 0):
                raise ConfigError(f"{name} must be a number of seconds above 0")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "ServiceSettings":
        env = os.environ if environ is None else environ
        origins = tuple(part.strip().rstrip("/") for part in env.get("POSTCHECK_CORS_ORIGINS", "").split(",")
                        if part.strip())
        return cls(
            token=_token(env),
            cors_origins=origins,
            max_body_bytes=_whole_number(env, "POSTCHECK_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES),
            max_batch=_whole_number(env, "POSTCHECK_MAX_BATCH", DEFAULT_MAX_BATCH),
            max_chars=_whole_number(env, "POSTCHECK_MAX_CHARS", DEFAULT_MAX_CHARS),
            model=env.get("POSTCHECK_MODEL", "").strip() or None,
            check_timeout=_seconds(env, "POSTCHECK_TIMEOUT", DEFAULT_TIMEOUT_S),
            max_queue=_whole_number(env, "POSTCHECK_QUEUE", DEFAULT_QUEUE),
            max_connections=_whole_number(env, "POSTCHECK_MAX_CONNECTIONS", DEFAULT_MAX_CONNECTIONS),
            header_timeout=_seconds(env, "POSTCHECK_HEADER_TIMEOUT", DEFAULT_HEADER_TIMEOUT_S),
            body_timeout=_seconds(env, "POSTCHECK_BODY_TIMEOUT", DEFAULT_BODY_TIMEOUT_S),
            keepalive_timeout=_seconds(env, "POSTCHECK_KEEPALIVE_TIMEOUT", DEFAULT_KEEPALIVE_TIMEOUT_S),
        )


def _token(env: Mapping[str, str]) -> str | None:
    """Unset means no token. Set means a token: surrounding whitespace (a pasted newline) is dropped,
    and a value that is blank after that is an error, not a silent 'no token'."""
    if "POSTCHECK_TOKEN" not in env:
        return None
    token = env["POSTCHECK_TOKEN"].strip()
    if not token:
        raise ConfigError("POSTCHECK_TOKEN is set but blank; unset it to run without a token")
    return token


def _whole_number(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number of at least 1") from None


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds above 0") from None
