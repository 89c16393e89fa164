"""Traffic aggregates behind the dashboard: events and feedback per time bucket, per industry.

Aggregation happens in SQL (one grouped query per plot), so the cost depends on
the number of buckets and industries, not on how many events were logged. The
bucket width follows the traffic's own time span, so the first hour of traffic
is a series of points, not one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Connection, Integer, cast, extract, func, select
from sqlalchemy.sql.elements import ColumnElement

from vacrec.domain import as_utc as aware
from vacrec.store.tables import events, feedback

BUCKET_SIZES_S = (60, 300, 900, 3600, 6 * 3600, 86400, 7 * 86400)
MAX_BUCKETS = 48  # the narrowest bucket that keeps a time plot under this many points

_FEEDBACK_WITH_EVENT = feedback.outerjoin(events, feedback.c.event_id == events.c.id)
_EVENTS_WITH_FEEDBACK = events.outerjoin(feedback, feedback.c.event_id == events.c.id)


def traffic(conn: Connection, sources: Sequence[str], *, of_sources: bool) -> dict[str, Any]:
    """Time series, totals and actions of the events whose source is in ``sources``
    (``of_sources=True``) or is not (``False``); feedback with no event counts as not."""
    source = func.coalesce(events.c.source, "")
    where = source.in_(sources) if of_sources else ~source.in_(sources)
    bucket_s = _bucket_seconds(conn, where)
    return {
        "bucket_s": bucket_s,
        "totals": _totals(conn, where),
        "reward_over_time": _reward_over_time(conn, where, bucket_s),
        "feedback_rate": _feedback_rate(conn, where, bucket_s),
        "actions": _actions(conn, where),
    }


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
    stamps = [as_utc(v) for span in spans for v in span if v is not None]
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
    return [
        {"t": epoch_iso(t), "mean_reward": finite_or_none(mean), "n": int(n)} for t, mean, n in rows
    ]


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
            "t": epoch_iso(t),
            "events": int(served),
            "rated": int(rated),
            "rate": (rated / served) if served else None,
        }
        for t, served, rated in rows
    ]


def _totals(conn: Connection, where: ColumnElement[bool]) -> dict[str, Any]:
    n_events = conn.execute(select(func.count()).select_from(events).where(where)).scalar_one()
    n_feedback, mean = conn.execute(
        select(func.count(), func.avg(feedback.c.reward))
        .select_from(_FEEDBACK_WITH_EVENT)
        .where(where)
    ).one()
    return {
        "events": int(n_events),
        "feedback": int(n_feedback),
        "mean_reward": finite_or_none(mean),
    }


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
        {
            "industry": industry,
            "served": int(served),
            "rated": int(rated),
            "mean_reward": finite_or_none(m),
        }
        for industry, served, rated, m in rows
    ]


def finite_or_none(value: Any) -> float | None:
    """A finite float, or None (JSON cannot carry NaN or infinity)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def as_utc(value: Any) -> datetime:
    """A UTC datetime from what the driver returns (datetime, or SQLite text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return aware(value).astimezone(UTC)


def epoch_iso(seconds: Any) -> str:
    return iso_utc(datetime.fromtimestamp(int(seconds), UTC))


def iso_utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
