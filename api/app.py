"""The FastAPI application: `create_app(settings)` wires routers, error handlers and metrics.

`matching serve` runs `uvicorn api.app:create_app --factory`; tests build their own app on
a temporary database. `api.app.app` is built on first access from the environment's settings.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException

from api import openapi, refusals, web
from api.errors import SafeJSONResponse, audit_unavailable, unexpected_error, validation_error
from api.limits import BodySizeLimit, RateLimit
from api.metrics import Metrics, MetricsMiddleware
from api.routes import admin, feedback, health, match, offices, openings, participants, taxonomy
from matching import runtime
from matching.config import Settings, get_settings
from matching.store import audit

log = logging.getLogger(__name__)
app: FastAPI  # `api.app.app`: built by __getattr__ on first access

DESCRIPTION = """
Which local employers and openings fit this participant, and why - and who fits this opening.

**Auth.** Every endpoint except `/healthz` and `/metrics` needs `Authorization: Bearer <JWT>`
(HS256; claims `sub`, `role` ∈ adviser | liaison | batch | admin, `offices`, `exp`); get one
with `matching token --role ROLE --office ID`. Checks in this order: token (401) → role (403)
→ the resource. A participant outside your offices answers exactly like one that does not
exist (404, same body), so ids in other offices cannot be probed; an opening of another
office is a 403 (openings are public). Invalid input → 422 with a `detail` naming the field;
a body over the size limit → 413; too many requests → 429 with `Retry-After`.

**Lists.** Ranked lists come from the published nightly run (`run_id`); `fresh=true` computes
them live (`run_id` null), as does any request before the first run is published or for a
participant/opening without a list in the served run (e.g. registered since).
`new_since_last_run` is true when the opening was not on the participant's list in the previous
published run; with no previous run it is false.

**Privacy.** Adaptation needs (health data) and exact distances are shown to advisers of the
participant's office and admins, through the participant endpoints. An opening's candidates
are employer-facing for every role: ranked and explained with each participant placed at the
centre of their home area (at least 10 residential postal codes) and distances given as bands
true of every home in it, and — unless the participant consented to share needs — without the
adaptation criterion (not assessed, contribution 0). Nothing in a candidate list depends on a
non-consenting participant's needs or on where in their area anyone lives. Every read of a
participant's data, and every refused attempt, is written to the audit log (`GET /v1/audit`).
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    settings.resolved_secret()  # refuse a missing/weak secret now, not on the first request

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        # Build the live snapshot in the background now, so the first fresh request does not pay for it.
        # Stored lists never need it (matching.serving): with MATCHING_SNAPSHOT_WARM=false a worker
        # builds it on its first live request, and one serving only stored lists stays small.
        if settings.snapshot_warm:
            try:
                runtime.warm(settings)
            except Exception as exc:  # noqa: BLE001 - the API still serves stored lists and health
                log.error("could not start building the live snapshot: %s", exc)
        yield

    # /docs and /redoc with their JavaScript and CSS served from the fastapi-offline package
    # (under /static-offline-docs), not from a CDN: the docs work on a machine without internet.
    app = FastAPIOffline(
        title="NAV employer matching",
        version="1",
        description=DESCRIPTION,
        docs_url="/docs",
        redoc_url="/redoc",
        openapi_url="/openapi.json",
        lifespan=lifespan,
        default_response_class=SafeJSONResponse,
    )
    app.state.settings = settings
    app.state.metrics = Metrics()
    # Outermost last: metrics see every answer (413 and 429 too), the rate limit refuses before
    # any body is read, and the body limit guards the parsing inside.
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RateLimit, settings=settings)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    # Starlette types a handler as taking any Exception, so one for a narrower class does not match.
    app.add_exception_handler(RequestValidationError, validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, refusals.audited_http_exception)  # type: ignore[arg-type]
    app.add_exception_handler(audit.Unavailable, audit_unavailable)
    app.add_exception_handler(Exception, unexpected_error)
    routers = [module.router for module in (health, participants, openings, offices, match, feedback, admin, taxonomy)]
    for router in routers:
        app.include_router(router)
    openapi.install(app, routers)
    web.install(app)  # the workbench's pages under / (not in the OpenAPI document)
    return app


def __getattr__(name: str) -> Any:
    """`api.app.app`, built on first use (importing this module touches no settings)."""
    if name == "app":
        global app
        app = create_app()
        return app
    raise AttributeError(name)
