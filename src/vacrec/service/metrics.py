"""Prometheus metrics of one app instance (its own registry, so in-process test apps don't mix).

Requests are labelled by route *template* (``/api/v1/feedback``), never by raw
path, so a scan of random URLs cannot grow the label set.

Under ``vacrec serve --workers N`` every worker is its own process and a scrape
reaches only one of them, so the server runs prometheus-client's multiprocess
mode: ``serve`` points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh directory before
the workers start, each worker writes its samples there, and ``/metrics`` sums
all files, whichever worker answers. Without that variable (one process, tests)
the app's own registry is exported as before.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
REWARD_BUCKETS = (-0.99, -0.9, -0.5, -0.1, 0.1, 0.5, 0.9, 0.99, 1.0)
UNMATCHED_ROUTE = "<unmatched>"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> str | None:
    """Where this process shares its samples with the other workers, or None (in-process).

    prometheus-client picks its value class when first imported; the directory
    counts only if that happened with the variable set, else a scrape of the
    (empty) directory would hide this process's own numbers.
    """
    path = os.environ.get(MULTIPROC_ENV)
    return path if path and values.ValueClass is not values.MutexValue else None


@contextmanager
def shared_metrics_dir(home: Path) -> Iterator[Path]:
    """A fresh, empty directory for one server start, exported to the workers it spawns.

    Fresh per start so counters never carry over from a previous run (or from
    another server on the same home); removed when the server stops.
    """
    parent = home / "prometheus"
    parent.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="serve-", dir=parent))
    previous = os.environ.get(MULTIPROC_ENV)
    os.environ[MULTIPROC_ENV] = str(path)
    try:
        yield path
    finally:
        if previous is None:
            os.environ.pop(MULTIPROC_ENV, None)
        else:
            os.environ[MULTIPROC_ENV] = previous
        shutil.rmtree(path, ignore_errors=True)


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
        self.multiprocess_dir = multiprocess_dir()
        # One sample per live worker (label ``pid`` under several workers): a worker
        # still on an old model or catalog after a swap shows up instead of averaging away.
        self.model_version = Gauge(
            "vacrec_model_version",
            "Live model version served by this process (-1: none, content prior).",
            registry=self.registry,
            multiprocess_mode="liveall",
        )
        self.catalog_version = Gauge(
            "vacrec_catalog_version",
            "Catalog version served by this process (-1: none loaded).",
            registry=self.registry,
            multiprocess_mode="liveall",
        )

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route, method).observe(seconds)

    def observe_event(self, source: str, explore: bool) -> None:
        self.events.labels(source, str(explore).lower()).inc()

    def observe_feedback(self, kind: str, reward: float) -> None:
        self.feedback.labels(kind).inc()
        self.reward.observe(reward)

    def set_versions(self, model_version: int | None, catalog_version: int | None) -> None:
        self.model_version.set(-1 if model_version is None else model_version)
        self.catalog_version.set(-1 if catalog_version is None else catalog_version)

    def render(self, model_version: int | None, catalog_version: int | None) -> bytes:
        """The exposition text of the whole server (every worker's files, if several)."""
        self.set_versions(model_version, catalog_version)
        if self.multiprocess_dir is None:
            return generate_latest(self.registry)
        merged = CollectorRegistry()
        multiprocess.MultiProcessCollector(merged, path=self.multiprocess_dir)
        return generate_latest(merged)

    def process_exiting(self) -> None:
        """Drop this worker's live gauges from the shared directory (its counters stay)."""
        if self.multiprocess_dir is not None:
            multiprocess.mark_process_dead(os.getpid(), self.multiprocess_dir)


def _served_versions(scope: Scope) -> tuple[int | None, int | None] | None:
    """The model and catalog versions this worker serves, once the lifespan has set them up."""
    recommender: Any = getattr(getattr(scope.get("app"), "state", None), "recommender", None)
    if recommender is None:
        return None
    model = recommender.models.current
    snapshot = recommender.snapshots.current
    return (
        model.version if model is not None else None,
        snapshot.version if snapshot is not None else None,
    )


class MetricsMiddleware:
    """Pure ASGI middleware timing every HTTP request and counting it by route template.

    It also keeps this worker's version gauges current on every request (a scrape
    answered by another worker cannot ask this one), and marks the worker dead in
    the shared directory when its lifespan shuts down.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics | Callable[[], Metrics]) -> None:
        self.app = app
        self._metrics = metrics

    def _get_metrics(self) -> Metrics:
        return self._metrics if isinstance(self._metrics, Metrics) else self._metrics()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(scope, receive, send)
            return
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
            metrics = self._get_metrics()
            metrics.observe_request(
                template, scope.get("method", ""), status, time.perf_counter() - started
            )
            versions = _served_versions(scope)
            if versions is not None:
                metrics.set_versions(*versions)

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_watching_shutdown(message: Message) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                self._get_metrics().process_exiting()
            await send(message)

        await self.app(scope, receive, send_watching_shutdown)
