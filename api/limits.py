"""Request limits, as pure ASGI middleware: no single request or caller can hog the server.

- `BodySizeLimit`: a request body over `MATCHING_MAX_BODY_BYTES` is refused with 413 before it
  is parsed. A declared Content-Length over the limit is refused without reading anything; the
  bytes actually received are counted as they stream in as well (chunked bodies, or a
  Content-Length that lies), so no more than the limit (+ one chunk) is ever buffered.
- `RateLimit`: per caller, a moving-window limit on every `/v1` request (`MATCHING_RATE_LIMIT`)
  and a tighter one on live computations (`MATCHING_RATE_LIMIT_LIVE`): `POST /v1/match` and
  `?fresh=true` on a participant's matches or an opening's candidates. The caller is the
  verified token's `sub`, or the client address when there is no valid token. Over the limit:
  429 with `Retry-After` (seconds) and a JSON `detail`. Counters live in the process (the
  `limits` package's memory storage): with `--workers N` each worker counts on its own.
"""

from __future__ import annotations

import json
import math
import re
import time
from urllib.parse import parse_qsl

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import InvalidToken, decode_token
from matching.config import Settings

_TRUE = {"1", "true", "t", "on", "y", "yes"}  # what pydantic reads as True for a bool query parameter
_FRESH_PATHS = (re.compile(r"^/v1/participants/[^/]+/matches/?$"), re.compile(r"^/v1/openings/[^/]+/candidates/?$"))


async def _send_json(send: Send, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class BodyTooLarge(HTTPException):
    """Raised from `receive` once the body passes the limit; FastAPI passes HTTPExceptions
    raised while reading a body through to its handler (→ JSON 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, detail=f"request body too large: at most {limit} bytes")


#: Oversized bodies up to this size are read to their end before the 413 (see BodySizeLimit).
DRAIN_MAX = 1 << 20


async def _drain(receive: Receive, budget: int) -> None:
    """Read and discard what is left of a request body, at most `budget` bytes."""
    while budget > 0:
        message = await receive()
        if message["type"] != "http.request":
            return
        budget -= len(message.get("body", b""))
        if not message.get("more_body", False):
            return


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > limit:
            # Read (and drop) a moderately oversized body first, so the client, still sending,
            # gets the 413 instead of a reset connection; a huge one is cut off at once.
            if int(declared) <= DRAIN_MAX:
                await _drain(receive, DRAIN_MAX)
            await _send_json(send, 413, BodyTooLarge(limit).detail, {"Connection": "close"})
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge as exc:  # read outside FastAPI's body parsing: answer here
            if started:
                raise
            await _drain(receive, DRAIN_MAX - received)
            await _send_json(send, 413, exc.detail, {"Connection": "close"})


class RateLimit:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.enabled = settings.rate_limit_enabled
        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        self.general: list[RateLimitItem] = parse_many(settings.rate_limit)
        self.live: list[RateLimitItem] = parse_many(settings.rate_limit_live)

    def caller(self, scope: Scope) -> str:
        auth = Headers(scope=scope).get("authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            try:
                return "sub:" + decode_token(token.strip(), self.settings).sub
            except InvalidToken:
                pass
        client = scope.get("client")
        return "ip:" + (client[0] if client else "unknown")

    @staticmethod
    def is_live(scope: Scope) -> bool:
        path, method = scope["path"], scope["method"]
        if method == "POST" and path.rstrip("/") == "/v1/match":
            return True
        if method == "GET" and any(p.match(path) for p in _FRESH_PATHS):
            query = scope.get("query_string", b"").decode("latin-1")
            return any(k == "fresh" and v.strip().lower() in _TRUE for k, v in parse_qsl(query, keep_blank_values=True))
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.enabled or scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        key = self.caller(scope)
        checks = [(item, "all") for item in self.general]
        if self.is_live(scope):
            checks += [(item, "live") for item in self.live]
        for item, bucket in checks:
            if not self.limiter.hit(item, bucket, key):
                what = "live computations" if bucket == "live" else "requests"
                await _send_json(
                    send,
                    429,
                    f"too many {what}: at most {item} per caller; retry later",
                    {"Retry-After": str(self.retry_after(item, bucket, key))},
                )
                return
        await self.app(scope, receive, send)

    def retry_after(self, item: RateLimitItem, bucket: str, key: str) -> int:
        reset, _remaining = self.limiter.get_window_stats(item, bucket, key)
        return max(1, math.ceil(reset - time.time()))
