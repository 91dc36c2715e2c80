"""Service settings, read from the environment so every uvicorn worker process sees the same ones.

    POSTCHECK_TOKEN           bearer token every route but /healthz requires (unset: no token)
    POSTCHECK_CORS_ORIGINS    comma-separated origins allowed to call from a browser (unset: CORS off);
                              chrome-extension://ID, moz-extension://ID, safari-web-extension://ID or
                              http(s)://host[:port]. "*" is refused: the drafts are PHI.
    POSTCHECK_MAX_BODY_BYTES  largest request body accepted (default 1 MiB); bigger gets 413
    POSTCHECK_MAX_BATCH       most drafts in one /v1/check/batch request (default 100); more gets 413
    POSTCHECK_MAX_CHARS       longest draft accepted (default: the library's, 50,000 characters)

The model and extra rule packs come from POSTCHECK_MODEL and POSTCHECK_RULES, as for the CLI, and rules
or words to allow from the file POSTCHECK_CONFIG names, if it is set (checker.config.checker_options_from_env).
The server never reads its own account's config file or a project config in its working directory.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Mapping

from checker.errors import ConfigError
from checker.pipeline import DEFAULT_MAX_CHARS

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
DEFAULT_MAX_BATCH = 100
# Browser-extension origins carry the extension's id; web origins are scheme, host and optional port.
_ORIGIN = re.compile(
    r"^(?:(?:chrome|moz|safari-web)-extension://[A-Za-z0-9-]+"
    r"|https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?)$"
)


@dataclass(frozen=True)
class ServiceSettings:
    token: str | None = None
    cors_origins: tuple[str, ...] = ()
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_batch: int = DEFAULT_MAX_BATCH
    max_chars: int = DEFAULT_MAX_CHARS

    def __post_init__(self) -> None:
        for origin in self.cors_origins:
            if not _ORIGIN.match(origin):
                raise ConfigError(
                    f"POSTCHECK_CORS_ORIGINS: '{origin}' is not an extension origin "
                    "(chrome-extension://ID, moz-extension://ID) or a web origin (https://host[:port]); "
                    "'*' is not allowed"
                )
        for name, value in (("POSTCHECK_MAX_BODY_BYTES", self.max_body_bytes),
                            ("POSTCHECK_MAX_BATCH", self.max_batch), ("POSTCHECK_MAX_CHARS", self.max_chars)):
            if value < 1:
                raise ConfigError(f"{name} must be a whole number of at least 1")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "ServiceSettings":
        env = os.environ if environ is None else environ
        origins = tuple(part.strip().rstrip("/") for part in env.get("POSTCHECK_CORS_ORIGINS", "").split(",")
                        if part.strip())
        return cls(
            token=env.get("POSTCHECK_TOKEN") or None,
            cors_origins=origins,
            max_body_bytes=_whole_number(env, "POSTCHECK_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES),
            max_batch=_whole_number(env, "POSTCHECK_MAX_BATCH", DEFAULT_MAX_BATCH),
            max_chars=_whole_number(env, "POSTCHECK_MAX_CHARS", DEFAULT_MAX_CHARS),
        )


def _whole_number(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number of at least 1") from None
