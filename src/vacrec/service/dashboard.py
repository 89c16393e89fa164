"""The numbers behind ``/dashboard``: traffic, rewards and models, read from the store.

Traffic is reported twice, for real users and for simulated ones (events whose
source is one of :data:`SIMULATED_SOURCES`), so `vacrec simulate` runs never
pass for real learning; the aggregation is :mod:`vacrec.store.dashboard`'s.
Model metadata is read as the registry's typed :class:`ModelMeta`; a model
trained without off-policy estimates (or whose metadata this build cannot
read) simply leaves its part of the plot empty.

The aggregates scan the whole event log (most of a second at 50,000 events), so they
are computed at most once per ``VACREC_DASHBOARD_CACHE_S`` and callers arriving
meanwhile share that one computation (:class:`DashboardCache`); the workers of one
host share it too, through a file (:class:`~vacrec.service.shared_body.SharedBody`):
a crowd of dashboards costs the database one query set per interval, not one per
viewer or per worker.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi.encoders import jsonable_encoder
from sqlalchemy import Connection, Engine
from starlette.concurrency import run_in_threadpool

from vacrec.agent.model_meta import Estimate, ModelMeta
from vacrec.app.registry import live_version
from vacrec.service.shared_body import SharedBody
from vacrec.store.dashboard import as_utc, finite_or_none, iso_utc, traffic
from vacrec.store.db import read_transaction
from vacrec.store.events import SIMULATED_SOURCES
from vacrec.store.model_rows import newest_stored_model, stored_models
from vacrec.store.refreshes import catalog_age, last_refresh

MAX_MODELS = 30  # newest model versions shown on the OPE plot
MAX_LOSS_POINTS = 400  # the loss curve is thinned to at most this many points


def dashboard_data(engine: Engine) -> dict[str, Any]:
    """Everything the dashboard plots, as one JSON-ready dict (one read transaction)."""
    with read_transaction(engine) as conn:
        model_rows = _models(conn)
        return {
            "generated_at": iso_utc(datetime.now(UTC)),
            "traffic": {
                "real": traffic(conn, SIMULATED_SOURCES, of_sources=False),
                "simulated": traffic(conn, SIMULATED_SOURCES, of_sources=True),
            },
            "live_version": next((m["version"] for m in model_rows if m["live"]), None),
            "models": model_rows,
            "loss_curve": _loss_curve(conn),
            "catalog": _catalog(conn),
        }


class DashboardCache:
    """One worker's dashboard figures, reused for ``ttl_s`` and computed by one caller at a time.

    Callers that find the figures stale queue on one asyncio lock; the first recomputes
    (in the thread pool, so the event loop keeps serving), the rest find fresh figures
    when their turn comes and return them without a query. Waiting callers hold no
    thread. A failed computation (database down) caches nothing: each caller gets the
    error, one after another, and the next call tries again.
    """

    def __init__(
        self,
        ttl_s: float,
        clock: Callable[[], float] = time.monotonic,
        shared: SharedBody | None = None,
    ) -> None:
        self.ttl_s = ttl_s
        self.shared = shared  # the host's workers share one computation through it
        self.computations = 0  # how many times the figures were computed (tests, metrics)
        self._clock = clock
        self._value: dict[str, Any] | None = None
        self._at = 0.0
        self._lock = asyncio.Lock()
        self._encoded: tuple[dict[str, Any], bytes] | None = None  # (figures, their JSON)
        self._body: bytes | None = None  # with ``shared``: the host's JSON, and since when
        self._body_at = 0.0

    def _fresh(self) -> dict[str, Any] | None:
        if self._value is not None and self._clock() - self._at < self.ttl_s:
            return self._value
        return None

    async def get_json(self, compute: Callable[[], dict[str, Any]]) -> bytes:
        """:meth:`get`'s figures as the JSON body, encoded once per computation: encoding
        the figures anew for every caller cost more than the rest of a cached answer
        (16 clients reloading it took 37 % of the recommendations' throughput)."""
        if self.shared is not None:
            return await self._shared_json(self.shared, compute)
        value = await self.get(compute)
        encoded = self._encoded
        if encoded is None or encoded[0] is not value:
            encoded = self._encoded = (value, _encode(value))
        return encoded[1]

    async def _shared_json(
        self, shared: SharedBody, compute: Callable[[], dict[str, Any]]
    ) -> bytes:
        """The body kept here while fresh, else the host's (one worker computes per interval);
        it ages from when it was computed, wherever that was."""
        if (body := self._fresh_body()) is not None:
            return body
        async with self._lock:
            if (body := self._fresh_body()) is not None:  # read while this caller waited
                return body
            fresh, age, computed = await run_in_threadpool(
                shared.get, self.ttl_s, lambda: _encode(compute())
            )
            self.computations += computed
            self._body, self._body_at = fresh, self._clock() - age
            return fresh

    def _fresh_body(self) -> bytes | None:
        if self._body is not None and self._clock() - self._body_at < self.ttl_s:
            return self._body
        return None

    async def get(self, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """The cached figures if fresh, else ``compute()``'s, shared with concurrent callers."""
        if (value := self._fresh()) is not None:
            return value
        async with self._lock:
            if (value := self._fresh()) is not None:  # computed while this caller waited
                return value
            value = await run_in_threadpool(compute)
            self.computations += 1
            self._value, self._at = value, self._clock()
            return value


def _encode(value: dict[str, Any]) -> bytes:
    return json.dumps(
        jsonable_encoder(value), ensure_ascii=False, allow_nan=False, separators=(",", ":")
    ).encode()


# ---------------------------------------------------------------- catalog


def _catalog(conn: Connection) -> dict[str, Any]:
    """How old the served catalog is and what the last `vacrec refresh` added and retired."""
    age = catalog_age(conn)
    for key in ("newest_published_at", "oldest_published_at", "last_seen_at"):
        age[key] = iso_utc(as_utc(age[key])) if age[key] is not None else None
    last = last_refresh(conn)
    age["last_refresh"] = (
        None
        if last is None
        else {
            "finished_at": iso_utc(as_utc(last["finished_at"])),
            "collected": last["collected"],
            "inserted": last["inserted"],
            "updated": last["updated"],
            "retired": last["retired"],
            "error": last["error"],
        }
    )
    return age


# ---------------------------------------------------------------- models


def _models(conn: Connection) -> list[dict[str, Any]]:
    live = live_version(conn)  # the registry decides what "live" means (rollbacks too)
    newest = stored_models(conn)[-MAX_MODELS:]
    return [_model_row(m.version, m.created_at, live, ModelMeta.parse(m.meta)) for m in newest]


def _model_row(
    version: int, created: Any, live: int | None, meta: ModelMeta | None
) -> dict[str, Any]:
    """A version with its estimates at training time and the promotion decision.

    ``champion_dr`` is the model it was compared with (live model or content
    prior), on the same held-out events: the comparison an operator acts on.
    """
    candidate = meta.ope.get("candidate", {}) if meta is not None else {}
    champion = meta.ope.get("champion", {}) if meta is not None else {}
    return {
        "version": version,
        "created_at": iso_utc(as_utc(created)),
        "live": version == live,
        "ope": [
            {"estimator": name, **estimate}
            for name, e in candidate.items()
            if (estimate := _estimate(e)) is not None
        ],
        "champion": meta.promotion.champion if meta is not None else "",
        "champion_dr": _estimate(champion.get("dr")),
        "promoted": meta.promotion.promoted if meta is not None else None,
        "decision": meta.promotion.reason if meta is not None else "",
    }


def _estimate(e: Estimate | None) -> dict[str, float | None] | None:
    """``{value, low, high}`` of an estimate with a finite value, else None."""
    if e is None or finite_or_none(e.value) is None:
        return None
    return {
        "value": finite_or_none(e.value),
        "low": finite_or_none(e.low),
        "high": finite_or_none(e.high),
    }


def _loss_curve(conn: Connection) -> dict[str, Any] | None:
    """The newest model's training loss as ``{version, points: [[step, loss]]}``."""
    row = newest_stored_model(conn)
    meta = None if row is None else ModelMeta.parse(row.meta)
    if row is None or meta is None:
        return None
    curve = meta.loss_curve
    points = [
        [_chunk_end(i, len(curve), meta.updates), finite]
        for i, loss in enumerate(curve)
        if (finite := finite_or_none(loss)) is not None
    ]
    return {"version": int(row.version), "points": _thin(points)} if points else None


def _chunk_end(i: int, n_chunks: int, updates: int) -> float:
    """A down-sampled curve holds one mean per chunk of updates: place it where it ends."""
    if updates < n_chunks:
        return float(i)
    return float(round((i + 1) * updates / n_chunks))


def _thin(points: list[list[float]]) -> list[list[float]]:
    """At most MAX_LOSS_POINTS evenly spaced points, always keeping the last one."""
    if len(points) <= MAX_LOSS_POINTS:
        return points
    stride = math.ceil(len(points) / MAX_LOSS_POINTS)
    thinned = points[::stride]
    if thinned[-1] is not points[-1]:
        thinned.append(points[-1])
    return thinned
