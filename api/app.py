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

from api import openapi, refusals
from api.errors import SafeJSONResponse, unexpected_error, validation_error
from api.limits import BodySizeLimit, RateLimit
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

    # /docs and /redoc with their JavaScript and CSS served from the fastapi-offline package
    # (under /static-offline-docs), not from a CDN: the docs work on a machine without internet.
    app = FastAPIOffline(title="NAV employer matching", version="1", description=DESCRIPTION,
                         docs_url="/docs", redoc_url="/redoc", openapi_url="/openapi.json", lifespan=lifespan,
                         default_response_class=SafeJSONResponse)
    app.state.settings = settings
    app.state.metrics = Metrics()
    # Outermost last: metrics see every answer (413 and 429 too), the rate limit refuses before
    # any body is read, and the body limit guards the parsing inside.
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RateLimit, settings=settings)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, refusals.audited_http_exception)
    app.add_exception_handler(Exception, unexpected_error)
    routers = [module.router for module in (health, participants, openings, match, feedback, admin, taxonomy)]
    for router in routers:
        app.include_router(router)
    openapi.install(app, routers)
    return app


def __getattr__(name: str) -> Any:
    """`api.app.app`, built on first use (importing this module touches no settings)."""
    if name == "app":
        global app
        app = create_app()
        return app
    raise AttributeError(name)
