"""What training reads: logged requests with their feedback, and legacy feedback rows.

Rows come in chunks of a fixed size, in chronological order, so a log of
millions of events never sits in memory as Python objects: on PostgreSQL a
server-side cursor (``stream_results``) hands over ``chunk_rows`` rows at a
time, on SQLite the cursor steps through the file as rows are fetched.

A :class:`~vacrec.agent.model_meta.TrainingWindow` limits the read to the newest rated
events, in SQL, so the database does the cutting and only the window crosses the wire.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, Select, and_, or_, select

from vacrec.agent.model_meta import TrainingWindow
from vacrec.store.db import utcnow
from vacrec.store.events import SIMULATED_SOURCES
from vacrec.store.tables import events, feedback

CHUNK_ROWS = 20_000
"""Rows per chunk: big enough that per-chunk work is amortised, small enough to be a few MB."""


@dataclass(frozen=True)
class LogRead:
    """How training reads the log, the same for both readers: simulated events too or not,
    which window of the newest rated events, and how many rows a chunk holds."""

    include_simulated: bool = False
    window: TrainingWindow = field(default_factory=TrainingWindow)
    chunk_rows: int = CHUNK_ROWS


EVERYTHING = LogRead()
"""The whole log but simulated events, in chunks of ``CHUNK_ROWS``."""


def _rated_events(include_simulated: bool) -> Select[Any]:
    query = select(events.c.created_at, events.c.id).join(
        feedback, feedback.c.event_id == events.c.id
    )
    if not include_simulated:
        query = query.where(events.c.source.not_in(SIMULATED_SOURCES))
    return query


def _newest_rated_cut(include_simulated: bool, n: int) -> tuple[Any, Any]:
    """Scalar subqueries for (created_at, id) of the ``n``-th newest rated event (NULL when
    there are fewer)."""
    nth = (
        _rated_events(include_simulated)
        .order_by(events.c.created_at.desc(), events.c.id.desc())
        .offset(n - 1)
        .limit(1)
        .subquery()
    )
    return select(nth.c.created_at).scalar_subquery(), select(nth.c.id).scalar_subquery()


def _window_clauses(
    read: LogRead,
    now: datetime,
    created_at: ColumnElement[datetime],
    from_cut: Callable[[Any, Any], ColumnElement[bool]],
) -> list[ColumnElement[bool]]:
    """WHERE clauses keeping the rows of ``read.window``: ``created_at`` within its days, and
    ``from_cut(created_at, id)`` of the ``window.events``-th newest rated event (every row
    while there are fewer)."""
    clauses: list[ColumnElement[bool]] = []
    if read.window.days is not None:
        clauses.append(created_at >= now - timedelta(days=read.window.days))
    if read.window.events is not None:
        cut_at, cut_id = _newest_rated_cut(read.include_simulated, read.window.events)
        clauses.append(or_(cut_at.is_(None), from_cut(cut_at, cut_id)))
    return clauses


def _event_window(read: LogRead, now: datetime) -> list[ColumnElement[bool]]:
    """The events from the window's start on (rated or not: a later unrated request is still
    a next state)."""
    return _window_clauses(
        read,
        now,
        events.c.created_at,
        lambda at, id_: or_(
            events.c.created_at > at, and_(events.c.created_at == at, events.c.id >= id_)
        ),
    )


def _legacy_window(read: LogRead, now: datetime) -> list[ColumnElement[bool]]:
    """Legacy rows have no event: they follow the window's start in time."""
    return _window_clauses(
        read, now, feedback.c.created_at, lambda at, _: feedback.c.created_at >= at
    )


def _chunks(conn: Connection, query: Select[Any], chunk_rows: int) -> Iterator[Sequence[Row[Any]]]:
    result = conn.execution_options(stream_results=True, yield_per=chunk_rows).execute(query)
    try:
        yield from result.partitions(chunk_rows)
    finally:
        result.close()


def requests_with_feedback(
    conn: Connection, read: LogRead = EVERYTHING
) -> Iterator[Sequence[Row[Any]]]:
    """Logged requests (rated or not) with their reward (NULL: never rated), oldest first.

    Columns: created_at, session_id, age, skill, preference, industry, propensity, reward,
    client, area, work_format.
    """
    query = (
        select(
            events.c.created_at,
            events.c.session_id,
            events.c.age,
            events.c.skill,
            events.c.preference,
            events.c.industry,
            events.c.propensity,
            feedback.c.reward,
            events.c.client,
            events.c.area,
            events.c.work_format,
        )
        .select_from(events.outerjoin(feedback, feedback.c.event_id == events.c.id))
        .where(*_event_window(read, utcnow()))
        .order_by(events.c.created_at, events.c.id)
    )
    if not read.include_simulated:
        query = query.where(events.c.source.not_in(SIMULATED_SOURCES))
    return _chunks(conn, query, read.chunk_rows)


def legacy_feedback(conn: Connection, read: LogRead = EVERYTHING) -> Iterator[Sequence[Row[Any]]]:
    """Feedback rows not tied to an event (``POST /api/write/``), oldest first.

    Columns: created_at, age, skill, industry (by name, as written), reward, client.
    ``read.include_simulated`` only decides which events count towards an events window.
    """
    query = (
        select(
            feedback.c.created_at,
            feedback.c.age,
            feedback.c.skill,
            feedback.c.industry,
            feedback.c.reward,
            feedback.c.client,
        )
        .where(feedback.c.event_id.is_(None), *_legacy_window(read, utcnow()))
        .order_by(feedback.c.created_at, feedback.c.id)
    )
    return _chunks(conn, query, read.chunk_rows)
