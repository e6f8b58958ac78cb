"""Error responses that can never fail to render.

Anything the client sent may come back in an error (`input`, a `msg` quoting the value, a `loc`
naming a key), and the client can send text JSON can carry but UTF-8 cannot: a lone surrogate
(`"\\ud800"`). Every string echoed is therefore made encodable (backslash-escaped), and every
JSON response falls back to ASCII escapes if a body still holds one.
"""

from __future__ import annotations

import json
import logging
import math
from typing import Any

import orjson
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

_UNPARSABLE_BODY = "There was an error parsing the body"  # FastAPI's 400 when a body cannot be decoded


class SafeJSONResponse(JSONResponse):
    """`JSONResponse` that renders text UTF-8 cannot carry (lone surrogates) as `\\uXXXX`
    escapes instead of raising: valid JSON, same value, never a 500 on the way out.

    Encoded with orjson (the same compact JSON as Starlette's `json.dumps`, several times faster:
    a ranked list of 10 with its reasons took ~0.3 ms of CPU with `json`); whatever orjson
    refuses (a lone surrogate, an integer beyond 64 bits, a key that is not a string) goes the
    old way."""

    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content)
        except (orjson.JSONEncodeError, TypeError):
            pass
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return json.dumps(content, ensure_ascii=True, allow_nan=False, indent=None, separators=(",", ":")).encode("ascii")


def safe_text(value: str, limit: int | None = None) -> str:
    """`value`, cut to `limit` characters, with anything UTF-8 cannot encode backslash-escaped."""
    if limit is not None and len(value) > limit:
        value = value[:limit] + "…"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", errors="backslashreplace").decode("utf-8")
    return value


def json_safe(value: Any, depth: int = 0) -> Any:
    """The offending input, echoed back only as far as JSON can carry it (NaN, bytes, lone
    surrogates, deep nesting and huge strings would otherwise turn a 422 into a 500 or a flood)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if isinstance(value, str):
        return safe_text(value, 200)
    if depth > 3:
        return "…"
    if isinstance(value, dict):
        return {safe_text(str(k), 100): json_safe(v, depth + 1) for k, v in list(value.items())[:50]}
    if isinstance(value, list | tuple):
        return [json_safe(v, depth + 1) for v in value[:50]]
    if value is None or isinstance(value, bool | int | float):
        return value
    return safe_text(str(value), 200)


def clean_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for err in errors:
        item: dict[str, Any] = {
            "loc": [p if isinstance(p, int) and not isinstance(p, bool) else safe_text(str(p), 100) for p in err.get("loc", ())],
            "msg": safe_text(str(err.get("msg", "")).removeprefix("Value error, "), 1000),
            "type": safe_text(str(err.get("type", "")), 100),
        }
        if "input" in err:
            item["input"] = json_safe(err["input"])
        out.append(item)
    return out


async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    return SafeJSONResponse(status_code=422, content={"detail": clean_errors(list(exc.errors()))})


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse(status_code=500, content={"detail": "internal server error"})


async def audit_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """A read whose audit row could not be committed is not answered (`audit.record_committed`)."""
    log.error("audit log unavailable on %s %s: %s", request.method, request.url.path, exc.__cause__ or exc)
    return SafeJSONResponse(status_code=503, content={"detail": "audit log unavailable; try again later"})


async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
    """FastAPI's own handler, rendered safely (a `detail` may quote what the client sent)."""
    if exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=exc.headers)
    detail = exc.detail
    if exc.status_code == 400 and detail == _UNPARSABLE_BODY:
        # A body JSON cannot decode at all (e.g. not UTF-8) is invalid input like any other.
        return SafeJSONResponse(
            {"detail": [{"loc": ["body"], "msg": "the body is not valid JSON in UTF-8", "type": "json_invalid"}]}, status_code=422
        )
    detail = safe_text(detail) if isinstance(detail, str) else json_safe(detail)
    return SafeJSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)
