"""ASGI middleware: the access log, the body-size limit and the bearer token.

Pure ASGI (no BaseHTTPMiddleware) so each one sees every request, including 404s and the answers other
middleware gives, and so the body limit can refuse a body before any of it is parsed.
"""

from __future__ import annotations

import hmac
import logging
import time
from typing import Collection

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import error_response

access_logger = logging.getLogger("postcheck.access")
error_logger = logging.getLogger("postcheck.error")
OTHER_PATH = "<other>"
# Set in the request's state by BearerToken when the route itself must check the token (see there).
UNVERIFIED_TOKEN = "postcheck_token_unverified"


class AccessLog:
    """One line a request: method, route path, status, bytes in and out, duration. Never the query
    string, the client address or any body; a path that is not one of our routes (or under one of
    our static `prefixes`) is logged as <other>, since a client may have put anything in it.

    Also the last resort for bugs: an unexpected exception becomes a JSON 500 and a log line naming only
    the exception type, so no traceback (whose message could quote the draft) reaches the log.
    """

    def __init__(self, app: ASGIApp, paths: Collection[str], prefixes: Collection[str] = ()):
        self.app = app
        self.paths = frozenset(paths)
        self.prefixes = tuple(prefix.rstrip("/") + "/" for prefix in prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        path = self._loggable(scope["path"])
        seen = {"status": 0, "in": 0, "out": 0}

        async def counting_receive() -> Message:
            message = await receive()
            seen["in"] += len(message.get("body", b""))
            return message

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
            elif message["type"] == "http.response.body":
                seen["out"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, counting_receive, counting_send)
        except Exception as exc:  # noqa: BLE001 - the point is that nothing escapes with its message
            error_logger.error("unhandled %s in %s %s", type(exc).__name__, scope["method"], path)
            if not seen["status"]:
                await error_response(500)(scope, counting_receive, counting_send)
        finally:
            access_logger.info(
                "%s %s %d in=%dB out=%dB %.1fms", scope["method"], path, seen["status"], seen["in"],
                seen["out"], (time.perf_counter() - started) * 1000,
            )

    def _loggable(self, path: str) -> str:
        if path in self.paths:
            return path
        prefix = next((p for p in self.prefixes if path.startswith(p)), None)
        return prefix + "..." if prefix else OTHER_PATH


class BodyLimit:
    """Refuse request bodies over `max_bytes` with 413 before the app parses any of them.

    The body is read here (it is small by definition) and replayed to the app, so a chunked upload with
    no Content-Length is bounded the same way as one that declares its size.
    """

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = f"request body is over the {self.max_bytes}-byte limit (POSTCHECK_MAX_BODY_BYTES)"
        await error_response(413, message, headers={"Connection": "close"})(scope, receive, send)


class BearerToken:
    """When a token is configured, every route but the open ones needs `Authorization: Bearer <token>`.

    Open: `open_paths` exactly, and everything under `open_prefixes` (pages that carry no draft).
    LanguageTool clients cannot send that header; they send the token in the request itself (`apiKey`).
    A request to one of `field_token_paths` without an Authorization header is therefore passed on marked
    UNVERIFIED_TOKEN in its state, and that route checks the field before anything else (a wrong header
    is still refused here).
    """

    def __init__(self, app: ASGIApp, token: str, open_paths: Collection[str],
                 open_prefixes: Collection[str] = (), field_token_paths: Collection[str] = ()):
        self.app = app
        self.token = token
        self.open_paths = frozenset(open_paths)
        self.open_prefixes = tuple(prefix.rstrip("/") + "/" for prefix in open_prefixes)
        self.field_token_paths = frozenset(field_token_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._open(scope["path"]) or self._authorised(scope):
            await self.app(scope, receive, send)
            return
        if scope["path"] in self.field_token_paths and "authorization" not in Headers(scope=scope):
            scope.setdefault("state", {})[UNVERIFIED_TOKEN] = True
            await self.app(scope, receive, send)
            return
        await error_response(401, headers={"WWW-Authenticate": "Bearer"})(scope, receive, send)

    def _open(self, path: str) -> bool:
        return path in self.open_paths or path.startswith(self.open_prefixes)

    def _authorised(self, scope: Scope) -> bool:
        scheme, _, presented = Headers(scope=scope).get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and token_matches(presented.strip(), self.token)


def token_matches(presented: str, token: str) -> bool:
    # compare_digest: the time taken must not tell an attacker how much of a guess was right.
    return hmac.compare_digest(presented.encode(), token.encode())
