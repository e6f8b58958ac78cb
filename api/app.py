"""The FastAPI application: `create_app(settings)` wires routers, error handlers and metrics.

`matching serve` runs `uvicorn api.app:create_app --factory`; tests build their own app on
a temporary database. `api.app.app` is built on first access from the environment's settings.
"""
from __future__ import annotations

import logging
import math
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api import refusals
from api.metrics import Metrics, MetricsMiddleware
from api.routes import admin, feedback, health, match, openings, participants, taxonomy
from matching import runtime
from matching.config import Settings, get_settings

log = logging.getLogger(__name__)

DESCRIPTION = """
Which local employers and openings fit this participant, and why - and who fits this opening.

**Auth.** Every endpoint except `/healthz` and `/metrics` needs `Authorization: Bearer <JWT>`
(HS256; claims `sub`, `role` ∈ adviser | liaison | batch | admin, `offices`, `exp`); get one
with `matching token --role ROLE --office ID`. Missing/invalid/expired token → 401, wrong role
or office → 403, unknown id → 404, invalid input → 422 with a `detail` naming the field.

**Lists.** Ranked lists come from the published nightly run (`run_id`); `fresh=true` computes
them live (`run_id` null), as does any request before the first run is published or for a
participant/opening without a list in the served run (e.g. registered since).
`new_since_last_run` is true when the opening was not on the participant's list in the previous
published run; with no previous run it is false.

**Health data.** Adaptation needs are shown to advisers of the participant's office and admins.
Liaison staff see candidates' reasons without any need named, unless the participant consented.
Every read of a participant's data is written to the audit log (`GET /v1/audit`, admin).
"""


def _json_safe(value: Any, depth: int = 0) -> Any:
    """The offending input, echoed back only as far as JSON can carry it (NaN, bytes, deep
    nesting and huge strings would otherwise turn a 422 into a 500 or a flood)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if isinstance(value, str):
        value = value if len(value) <= 200 else value[:200] + "…"
        # a lone surrogate cannot be encoded as UTF-8: echo it escaped ("\\ud800")
        return value.encode("utf-8", errors="backslashreplace").decode("utf-8")
    if depth > 3:
        return "…"
    if isinstance(value, dict):
        return {str(k)[:100]: _json_safe(v, depth + 1) for k, v in list(value.items())[:50]}
    if isinstance(value, list | tuple):
        return [_json_safe(v, depth + 1) for v in value[:50]]
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)[:200]


def _clean_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for err in errors:
        item: dict[str, Any] = {"loc": [_json_safe(str(p)) if not isinstance(p, int) else p for p in err.get("loc", ())],
                                "msg": str(err.get("msg", "")).removeprefix("Value error, "),
                                "type": str(err.get("type", ""))}
        if "input" in err:
            item["input"] = _json_safe(err["input"])
        out.append(item)
    return out


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    return JSONResponse(status_code=422, content={"detail": _clean_errors(list(exc.errors()))})


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse(status_code=500, content={"detail": "internal server error"})


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    settings.resolved_secret()  # refuse a missing/weak secret now, not on the first request

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        # Build the live snapshot in the background now, so the first fresh request does not pay for it.
        try:
            runtime.warm(settings)
        except Exception as exc:  # noqa: BLE001 - the API still serves stored lists and health
            log.error("could not start building the live snapshot: %s", exc)
        yield

    app = FastAPI(title="NAV employer matching", version="1", description=DESCRIPTION,
                  docs_url="/docs", openapi_url="/openapi.json", lifespan=lifespan)
    app.state.settings = settings
    app.state.metrics = Metrics()
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, refusals.audited_http_exception)
    app.add_exception_handler(Exception, _unexpected_error)
    for module in (health, participants, openings, match, feedback, admin, taxonomy):
        app.include_router(module.router)
    return app


def __getattr__(name: str) -> Any:
    """`api.app.app`, built on first use (importing this module touches no settings)."""
    if name == "app":
        global app
        app = create_app()
        return app
    raise AttributeError(name)
