"""HTTP metrics with prometheus-client: request counts and latency histograms.

Labelled by method, route template (`/v1/participants/{participant_id}`, never the raw path,
so no id ends up in a metric) and status. Series:

- `matching_http_requests_total{method,route,status}` (counter)
- `matching_http_request_duration_seconds{method,route}` (histogram: `_bucket`, `_sum`, `_count`)

One process (`matching serve`, the default): each app counts in its own registry. Several
worker processes (`matching serve --workers N`, which sets `PROMETHEUS_MULTIPROC_DIR` to a
fresh directory; or any server started with that variable set): every worker writes its
samples there and `/metrics`, whichever worker answers, adds up all of them. The variable must
be set before `prometheus_client` is first imported — prometheus-client decides then.
"""

from __future__ import annotations

import os
import time

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Anything else counts as "other", so a client cannot mint label values.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: Latency buckets (seconds) around the service goals (50 ms stored read, 100-150 ms live).
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONTENT_TYPE = CONTENT_TYPE_LATEST


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class Metrics:
    """The metrics of one app; `render()` is the `/metrics` body."""

    def __init__(self) -> None:
        self.multiprocess = multiprocess_dir() is not None
        # The metrics live in a registry of their own, so two apps in one process (tests) do not
        # collide; in multiprocess mode their values go to files in the shared directory anyway.
        own = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "matching_http_requests", "HTTP requests by method, route and status.", ["method", "route", "status"], registry=own
        )
        self.latency = Histogram(
            "matching_http_request_duration_seconds", "Time spent answering requests.", ["method", "route"], buckets=BUCKETS, registry=own
        )
        if self.multiprocess:
            self.registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(self.registry)  # reads every worker's files on each scrape
        else:
            self.registry = own

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        method = method if method in METHODS else "other"
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Pure ASGI middleware: times every HTTP request and counts it by status."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "(unmatched)"
            self.metrics.observe(scope["method"], template, status, time.perf_counter() - started)
