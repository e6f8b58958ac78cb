"""Request counters in the Prometheus text exposition format (no client library needed).

Labelled by route template (`/v1/participants/{participant_id}`), never the raw path, so no
id ends up in a metric.
"""
from __future__ import annotations

import threading
import time
from collections import defaultdict

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, str], int] = defaultdict(int)
        self.seconds: dict[tuple[str, str], float] = defaultdict(float)
        self.counts: dict[tuple[str, str], int] = defaultdict(int)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(method, route, str(status))] += 1
            self.seconds[(method, route)] += seconds
            self.counts[(method, route)] += 1

    def render(self) -> str:
        esc = lambda v: v.replace("\\", "\\\\").replace('"', '\\"')  # noqa: E731
        lines = ["# HELP matching_http_requests_total HTTP requests by method, route and status.",
                 "# TYPE matching_http_requests_total counter"]
        with self._lock:
            for (m, r, s), n in sorted(self.requests.items()):
                lines.append(f'matching_http_requests_total{{method="{m}",route="{esc(r)}",status="{s}"}} {n}')
            lines += ["# HELP matching_http_request_duration_seconds Time spent answering requests.",
                      "# TYPE matching_http_request_duration_seconds summary"]
            for (m, r), total in sorted(self.seconds.items()):
                labels = f'method="{m}",route="{esc(r)}"'
                lines.append(f"matching_http_request_duration_seconds_sum{{{labels}}} {total:.6f}")
                lines.append(f"matching_http_request_duration_seconds_count{{{labels}}} {self.counts[(m, r)]}")
        return "\n".join(lines) + "\n"


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
