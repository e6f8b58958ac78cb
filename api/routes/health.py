"""Liveness/readiness (`/healthz`) and Prometheus metrics (`/metrics`); no token needed,
and neither says anything about any participant."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from api.deps import SettingsDep
from api.metrics import CONTENT_TYPE
from api.schemas import Health
from matching import runtime
from matching.store import db, lists

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, responses={503: {"model": Health}})
def healthz(settings: SettingsDep):
    """`ok`: database reachable and a model loaded; `degraded`: no trained model (stored lists
    still serve, live matching answers 503); `unavailable` (HTTP 503): database unreachable."""
    try:
        model_version = runtime.model(settings).version
    except (FileNotFoundError, OSError, ValueError):
        model_version = None
    try:
        with runtime.db(settings).connect() as conn:
            db.ping(conn)
            served = lists.serving(conn)
    except Exception as exc:  # any driver error means "not reachable" here
        log.warning("health check: database unreachable: %s", exc)
        body = Health(status="unavailable", database="unreachable", serving_run_id=None, model_version=model_version)
        return JSONResponse(body.model_dump(), status_code=503)
    return Health(
        status="ok" if model_version else "degraded",
        database="ok",
        serving_run_id=served.run_id if served else None,
        model_version=model_version,
    )


@router.get("/metrics", response_class=PlainTextResponse, include_in_schema=False)
def metrics(request: Request) -> Response:
    """Prometheus text format (api/metrics.py): counts and latencies by route template."""
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE)
