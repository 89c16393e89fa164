"""The numbers behind ``/dashboard``: traffic, rewards and models, read from the store.

Traffic is reported twice, for real users and for simulated ones (events whose
source is one of :data:`SIMULATED_SOURCES`), so `vacrec simulate` runs never
pass for real learning. Legacy feedback with no event counts as real.

Aggregation happens in SQL (one grouped query per plot), so the cost depends on
the number of buckets and industries, not on how many events were logged. The
bucket width follows each origin's time span, so the first hour of traffic is a
series of points, not one. Model metadata is read as the registry's typed
:class:`ModelMeta`; a model trained without off-policy estimates (or whose
metadata this build cannot read) simply leaves its part of the plot empty.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Connection, Engine, Integer, cast, extract, func, select
from sqlalchemy.sql.elements import ColumnElement

from vacrec.agent.model_meta import Estimate, ModelMeta
from vacrec.agent.registry import live_version
from vacrec.agent.transitions import SIMULATED_SOURCES
from vacrec.store.db import read_transaction
from vacrec.store.tables import events, feedback, models

ORIGINS = ("real", "simulated")
BUCKET_SIZES_S = (60, 300, 900, 3600, 6 * 3600, 86400, 7 * 86400)
MAX_BUCKETS = 48  # the narrowest bucket that keeps a time plot under this many points
MAX_MODELS = 30  # newest model versions shown on the OPE plot
MAX_LOSS_POINTS = 400  # the loss curve is thinned to at most this many points

_FEEDBACK_WITH_EVENT = feedback.outerjoin(events, feedback.c.event_id == events.c.id)
_EVENTS_WITH_FEEDBACK = events.outerjoin(feedback, feedback.c.event_id == events.c.id)


def dashboard_data(engine: Engine) -> dict[str, Any]:
    """Everything the dashboard plots, as one JSON-ready dict (one read transaction)."""
    with read_transaction(engine) as conn:
        model_rows = _models(conn)
        return {
            "generated_at": _iso(datetime.now(UTC)),
            "traffic": {origin: _traffic(conn, origin) for origin in ORIGINS},
            "live_version": next((m["version"] for m in model_rows if m["live"]), None),
            "models": model_rows,
            "loss_curve": _loss_curve(conn),
        }


def _traffic(conn: Connection, origin: str) -> dict[str, Any]:
    """The time series, totals and actions of one origin (real or simulated users)."""
    where = _of_origin(origin)
    bucket_s = _bucket_seconds(conn, where)
    return {
        "bucket_s": bucket_s,
        "totals": _totals(conn, where),
        "reward_over_time": _reward_over_time(conn, where, bucket_s),
        "feedback_rate": _feedback_rate(conn, where, bucket_s),
        "actions": _actions(conn, where),
    }


def _of_origin(origin: str) -> ColumnElement[bool]:
    """Rows of events (or feedback joined to its event) from simulated or real users."""
    source = func.coalesce(events.c.source, "")  # legacy feedback has no event: a real user
    simulated = source.in_(SIMULATED_SOURCES)
    return simulated if origin == "simulated" else ~simulated


# ---------------------------------------------------------------- time buckets


def _bucket_seconds(conn: Connection, where: ColumnElement[bool]) -> int:
    """The narrowest bucket width that spans the origin's history in at most MAX_BUCKETS."""
    spans = [
        conn.execute(
            select(func.min(events.c.created_at), func.max(events.c.created_at)).where(where)
        ).one(),
        conn.execute(
            select(func.min(feedback.c.created_at), func.max(feedback.c.created_at))
            .select_from(_FEEDBACK_WITH_EVENT)
            .where(where)
        ).one(),
    ]
    stamps = [_as_datetime(v) for span in spans for v in span if v is not None]
    seconds = (max(stamps) - min(stamps)).total_seconds() if stamps else 0.0
    return next((b for b in BUCKET_SIZES_S if seconds / b < MAX_BUCKETS), BUCKET_SIZES_S[-1])


def _bucket(conn: Connection, column: ColumnElement[Any], seconds: int) -> ColumnElement[int]:
    """``column`` as Unix seconds (UTC), floored to a multiple of ``seconds``, per dialect."""
    if conn.dialect.name == "postgresql":
        epoch = cast(func.floor(extract("epoch", column)), BigInteger)
    else:  # SQLite stores our UTC timestamps as 'YYYY-MM-DD HH:MM:SS.ffffff'
        epoch = cast(func.strftime("%s", column), Integer)
    return (epoch // seconds) * seconds


def _reward_over_time(
    conn: Connection, where: ColumnElement[bool], seconds: int
) -> list[dict[str, Any]]:
    bucket = _bucket(conn, feedback.c.created_at, seconds).label("bucket")
    rows = conn.execute(
        select(bucket, func.avg(feedback.c.reward), func.count())
        .select_from(_FEEDBACK_WITH_EVENT)
        .where(where)
        .group_by(bucket)
        .order_by(bucket)
    )
    return [{"t": _epoch_iso(t), "mean_reward": _num(mean), "n": int(n)} for t, mean, n in rows]


def _feedback_rate(
    conn: Connection, where: ColumnElement[bool], seconds: int
) -> list[dict[str, Any]]:
    """Per bucket of serving time: events, how many got feedback, and the share."""
    bucket = _bucket(conn, events.c.created_at, seconds).label("bucket")
    rows = conn.execute(
        select(bucket, func.count(events.c.id), func.count(feedback.c.id))
        .select_from(_EVENTS_WITH_FEEDBACK)
        .where(where)
        .group_by(bucket)
        .order_by(bucket)
    )
    return [
        {
            "t": _epoch_iso(t),
            "events": int(served),
            "rated": int(rated),
            "rate": (rated / served) if served else None,
        }
        for t, served, rated in rows
    ]


# ---------------------------------------------------------------- traffic


def _totals(conn: Connection, where: ColumnElement[bool]) -> dict[str, Any]:
    n_events = conn.execute(select(func.count()).select_from(events).where(where)).scalar_one()
    n_feedback, mean = conn.execute(
        select(func.count(), func.avg(feedback.c.reward))
        .select_from(_FEEDBACK_WITH_EVENT)
        .where(where)
    ).one()
    return {"events": int(n_events), "feedback": int(n_feedback), "mean_reward": _num(mean)}


def _actions(conn: Connection, where: ColumnElement[bool]) -> list[dict[str, Any]]:
    """Actions served per industry, with how often and how well they were rated."""
    rows = conn.execute(
        select(
            events.c.industry,
            func.count(events.c.id).label("served"),
            func.count(feedback.c.id),
            func.avg(feedback.c.reward),
        )
        .select_from(_EVENTS_WITH_FEEDBACK)
        .where(where)
        .group_by(events.c.industry)
        .order_by(func.count(events.c.id).desc(), events.c.industry)
    )
    return [
        {"industry": industry, "served": int(served), "rated": int(rated), "mean_reward": _num(m)}
        for industry, served, rated, m in rows
    ]


# ---------------------------------------------------------------- models


def _models(conn: Connection) -> list[dict[str, Any]]:
    live = live_version(conn)  # the registry decides what "live" means (rollbacks too)
    rows = conn.execute(
        select(models.c.version, models.c.created_at, models.c.meta)
        .order_by(models.c.version.desc())
        .limit(MAX_MODELS)
    ).all()
    return [
        _model_row(int(version), created, live, ModelMeta.parse(meta))
        for version, created, meta in reversed(rows)
    ]


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
        "created_at": _iso(_as_datetime(created)),
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
    if e is None or _num(e.value) is None:
        return None
    return {"value": _num(e.value), "low": _num(e.low), "high": _num(e.high)}


def _loss_curve(conn: Connection) -> dict[str, Any] | None:
    """The newest model's training loss as ``{version, points: [[step, loss]]}``."""
    row = conn.execute(
        select(models.c.version, models.c.meta).order_by(models.c.version.desc()).limit(1)
    ).one_or_none()
    meta = None if row is None else ModelMeta.parse(row.meta)
    if meta is None:
        return None
    curve = meta.loss_curve
    points = [
        [_chunk_end(i, len(curve), meta.updates), loss]
        for i, loss in enumerate(curve)
        if _num(loss) is not None
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


# ---------------------------------------------------------------- helpers


def _num(value: Any) -> float | None:
    """A finite float, or None (JSON cannot carry NaN or infinity)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _as_datetime(value: Any) -> datetime:
    """A UTC datetime from what the driver returns (datetime, or SQLite text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _epoch_iso(seconds: Any) -> str:
    return _iso(datetime.fromtimestamp(int(seconds), UTC))


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
