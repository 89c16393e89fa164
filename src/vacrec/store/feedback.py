"""Queries about the feedback table that the learning loop needs."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from vacrec.store.events import SIMULATED_SOURCES
from vacrec.store.tables import events, feedback


def newest_feedback_id(conn: Connection, include_simulated: bool = True) -> int | None:
    """The id of the newest feedback row (ids only grow), None when there is none.

    Without ``include_simulated``, ratings of simulated events do not count: a
    `vacrec simulate` run is nothing new for a training on real events only.
    """
    query = select(func.max(feedback.c.id))
    if not include_simulated:
        query = query.select_from(
            feedback.outerjoin(events, feedback.c.event_id == events.c.id)
        ).where(events.c.source.is_(None) | events.c.source.not_in(SIMULATED_SOURCES))
    return conn.execute(query).scalar_one_or_none()
