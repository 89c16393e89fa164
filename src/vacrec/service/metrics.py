"""Prometheus metrics of one app instance (its own registry, so tests and workers don't mix).

Requests are labelled by route *template* (``/api/v1/feedback``), never by raw
path, so a scan of random URLs cannot grow the label set. Each worker process
exports its own counters; scrape every worker or sum them.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
REWARD_BUCKETS = (-0.99, -0.9, -0.5, -0.1, 0.1, 0.5, 0.9, 0.99, 1.0)
UNMATCHED_ROUTE = "<unmatched>"


class Metrics:
    """The service's counters, histograms and gauges."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "vacrec_http_requests_total",
            "HTTP requests by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "vacrec_http_request_seconds",
            "HTTP request latency by route template and method.",
            ["route", "method"],
            buckets=LATENCY_BUCKETS_S,
            registry=self.registry,
        )
        self.events = Counter(
            "vacrec_events_served_total",
            "Recommendations served (each one stored as an event).",
            ["source", "explore"],
            registry=self.registry,
        )
        self.feedback = Counter(
            "vacrec_feedback_total",
            "Feedback stored, by kind (votes, cum_reward, legacy).",
            ["kind"],
            registry=self.registry,
        )
        self.reward = Histogram(
            "vacrec_reward",
            "Stored rewards tanh(R).",
            buckets=REWARD_BUCKETS,
            registry=self.registry,
        )
        self.model_version = Gauge(
            "vacrec_model_version",
            "Live model version served by this process (-1: none, uniform exploration).",
            registry=self.registry,
        )
        self.catalog_version = Gauge(
            "vacrec_catalog_version",
            "Catalog version served by this process (-1: none loaded).",
            registry=self.registry,
        )

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route, method).observe(seconds)

    def observe_event(self, source: str, explore: bool) -> None:
        self.events.labels(source, str(explore).lower()).inc()

    def observe_feedback(self, kind: str, reward: float) -> None:
        self.feedback.labels(kind).inc()
        self.reward.observe(reward)

    def render(self, model_version: int | None, catalog_version: int | None) -> bytes:
        """The exposition text, with the gauges read at scrape time."""
        self.model_version.set(-1 if model_version is None else model_version)
        self.catalog_version.set(-1 if catalog_version is None else catalog_version)
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Pure ASGI middleware timing every HTTP request and counting it by route template."""

    def __init__(self, app: ASGIApp, metrics: Metrics | Callable[[], Metrics]) -> None:
        self.app = app
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or UNMATCHED_ROUTE
            metrics = self._metrics if isinstance(self._metrics, Metrics) else self._metrics()
            metrics.observe_request(
                template, scope.get("method", ""), status, time.perf_counter() - started
            )
