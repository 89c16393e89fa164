"""The numbers behind ``/dashboard``: traffic, rewards and models, read from the store.

Aggregation happens in SQL (one grouped query per plot), so the cost depends on
the number of buckets and industries, not on how many events were logged.
Model metadata is read as the registry's typed :class:`ModelMeta`; a model
trained without off-policy estimates (or whose metadata this build cannot
read) simply leaves its part of the plot empty.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.sql.elements import ColumnElement

from vacrec.agent.model_meta import ModelMeta
from vacrec.agent.registry import live_version
from vacrec.store.db import read_transaction
from vacrec.store.tables import events, feedback, models

HOURLY_UP_TO = timedelta(days=3)  # longer spans are bucketed by day
MAX_MODELS = 30  # newest model versions shown on the OPE plot
MAX_LOSS_POINTS = 400  # the loss curve is thinned to at most this many points


def dashboard_data(engine: Engine) -> dict[str, Any]:
    """Everything the dashboard plots, as one JSON-ready dict (one read transaction)."""
    with read_transaction(engine) as conn:
        bucket = _bucket_unit(conn)
        model_rows = _models(conn)
        return {
            "generated_at": _iso(datetime.now(UTC)),
            "bucket": bucket,
            "totals": _totals(conn),
            "reward_over_time": _reward_over_time(conn, bucket),
            "feedback_rate": _feedback_rate(conn, bucket),
            "actions": _actions(conn),
            "live_version": next((m["version"] for m in model_rows if m["live"]), None),
            "models": model_rows,
            "loss_curve": _loss_curve(conn),
        }


# ---------------------------------------------------------------- time buckets


def _bucket_unit(conn: Connection) -> str:
    """Hourly buckets for a short history, daily ones for a long one."""
    first, last = conn.execute(
        select(func.min(events.c.created_at), func.max(events.c.created_at))
    ).one()
    first_fb, last_fb = conn.execute(
        select(func.min(feedback.c.created_at), func.max(feedback.c.created_at))
    ).one()
    stamps = [_as_datetime(v) for v in (first, last, first_fb, last_fb) if v is not None]
    if not stamps:
        return "hour"
    return "hour" if max(stamps) - min(stamps) <= HOURLY_UP_TO else "day"


def _bucket(conn: Connection, column: ColumnElement[Any], unit: str) -> ColumnElement[Any]:
    """``column`` truncated to the hour or day in UTC, per dialect."""
    if conn.dialect.name == "postgresql":
        return func.date_trunc(unit, func.timezone("UTC", column))
    # SQLite stores our UTC timestamps as 'YYYY-MM-DD HH:MM:SS.ffffff'.
    fmt = "%Y-%m-%d %H:00:00" if unit == "hour" else "%Y-%m-%d 00:00:00"
    return func.strftime(fmt, column)


def _reward_over_time(conn: Connection, unit: str) -> list[dict[str, Any]]:
    bucket = _bucket(conn, feedback.c.created_at, unit).label("bucket")
    rows = conn.execute(
        select(bucket, func.avg(feedback.c.reward), func.count()).group_by(bucket).order_by(bucket)
    )
    return [
        {"t": _iso(_as_datetime(t)), "mean_reward": _num(mean), "n": int(n)} for t, mean, n in rows
    ]


def _feedback_rate(conn: Connection, unit: str) -> list[dict[str, Any]]:
    """Per bucket of serving time: events, how many got feedback, and the share."""
    bucket = _bucket(conn, events.c.created_at, unit).label("bucket")
    rows = conn.execute(
        select(bucket, func.count(events.c.id), func.count(feedback.c.id))
        .select_from(events.outerjoin(feedback, feedback.c.event_id == events.c.id))
        .group_by(bucket)
        .order_by(bucket)
    )
    return [
        {
            "t": _iso(_as_datetime(t)),
            "events": int(served),
            "rated": int(rated),
            "rate": (rated / served) if served else None,
        }
        for t, served, rated in rows
    ]


# ---------------------------------------------------------------- traffic


def _totals(conn: Connection) -> dict[str, Any]:
    n_events = conn.execute(select(func.count()).select_from(events)).scalar_one()
    n_feedback, mean = conn.execute(select(func.count(), func.avg(feedback.c.reward))).one()
    return {"events": int(n_events), "feedback": int(n_feedback), "mean_reward": _num(mean)}


def _actions(conn: Connection) -> list[dict[str, Any]]:
    """Actions served per industry, with how often and how well they were rated."""
    rows = conn.execute(
        select(
            events.c.industry,
            func.count(events.c.id).label("served"),
            func.count(feedback.c.id),
            func.avg(feedback.c.reward),
        )
        .select_from(events.outerjoin(feedback, feedback.c.event_id == events.c.id))
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
        {
            "version": int(version),
            "created_at": _iso(_as_datetime(created)),
            "live": version == live,
            "ope": _ope_estimates(meta),
        }
        for version, created, meta in reversed(rows)
    ]


def _ope_estimates(raw: Any) -> list[dict[str, Any]]:
    """The candidate's estimates when it was trained, as ``[{estimator, value, low, high}]``."""
    meta = ModelMeta.parse(raw)
    if meta is None:
        return []
    return [
        {"estimator": name, "value": _num(e.value), "low": _num(e.low), "high": _num(e.high)}
        for name, e in meta.ope.get("candidate", {}).items()
        if _num(e.value) is not None
    ]


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


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
