"""The numbers behind ``/dashboard``: traffic, rewards and models, read from the store.

Aggregation happens in SQL (one grouped query per plot), so the cost depends on
the number of buckets and industries, not on how many events were logged.
Model metadata is written by the trainer and may lack keys (an older model, a
training that skipped the off-policy evaluation); every reader here is
tolerant and simply leaves that part of the plot empty.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.sql.elements import ColumnElement

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


def _ope_estimates(meta: Any) -> list[dict[str, Any]]:
    """``meta["metrics"]["ope"]`` as ``[{estimator, value, low, high}]``, whatever its shape.

    Accepted per estimator: a bare number, or a dict with the value under
    ``value``/``estimate``/``mean`` and the interval as ``ci``/``ci95`` (a pair)
    or ``low``/``high`` (also ``lo``/``hi``, ``ci_low``/``ci_high``).
    """
    ope = _dig(meta, "metrics", "ope")
    if not isinstance(ope, dict):
        return []
    out = []
    for name, raw in ope.items():
        value, low, high = _estimate(raw)
        if value is not None:
            out.append({"estimator": str(name), "value": value, "low": low, "high": high})
    return out


def _estimate(raw: Any) -> tuple[float | None, float | None, float | None]:
    if not isinstance(raw, dict):
        return _num(raw), None, None
    value = next((_num(raw[k]) for k in ("value", "estimate", "mean") if k in raw), None)
    low = high = None
    for key in ("ci", "ci95", "interval"):
        pair = raw.get(key)
        if isinstance(pair, list | tuple) and len(pair) == 2:
            low, high = _num(pair[0]), _num(pair[1])
            break
    else:
        low = next((_num(raw[k]) for k in ("low", "lo", "ci_low", "lower") if k in raw), None)
        high = next((_num(raw[k]) for k in ("high", "hi", "ci_high", "upper") if k in raw), None)
    return value, low, high


def _loss_curve(conn: Connection) -> dict[str, Any] | None:
    """The newest model's training loss as ``{version, points: [[step, loss]]}``."""
    row = conn.execute(
        select(models.c.version, models.c.meta).order_by(models.c.version.desc()).limit(1)
    ).one_or_none()
    if row is None:
        return None
    points = _loss_points(_dig(row.meta, "loss_curve"), _dig(row.meta, "updates"))
    return {"version": int(row.version), "points": _thin(points)} if points else None


def _loss_points(raw: Any, updates: Any = None) -> list[list[float]]:
    """Accepts ``[loss…]``, ``[[step, loss]…]``, ``[{step, loss}…]`` or ``{steps, loss}``.

    A bare list is a down-sampled curve (one mean per chunk of updates); when the
    number of updates is known, chunk ``i`` is placed at the update where it ends.
    """
    pairs: list[tuple[Any, Any]] = []
    if isinstance(raw, dict):
        steps = raw.get("steps", raw.get("step"))
        losses = raw.get("loss", raw.get("losses"))
        if isinstance(losses, list):
            if not isinstance(steps, list) or len(steps) != len(losses):
                steps = list(range(len(losses)))
            pairs = list(zip(steps, losses, strict=True))
    elif isinstance(raw, list):
        for i, item in enumerate(raw):
            if isinstance(item, dict):
                pairs.append((item.get("step", i), item.get("loss")))
            elif isinstance(item, list | tuple) and len(item) == 2:
                pairs.append((item[0], item[1]))
            else:
                pairs.append((_chunk_end(i, len(raw), updates), item))
    points = []
    for step, loss in pairs:
        s, v = _num(step), _num(loss)
        if s is not None and v is not None:
            points.append([s, v])
    return points


def _chunk_end(i: int, n_chunks: int, updates: Any) -> float:
    total = _num(updates)
    if total is None or total < n_chunks:
        return float(i)
    return float(round((i + 1) * total / n_chunks))


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


def _dig(obj: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


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
