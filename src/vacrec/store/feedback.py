"""Queries about the feedback table that the learning loop needs."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from vacrec.store.tables import feedback


def newest_feedback_id(conn: Connection) -> int | None:
    """The id of the newest feedback row (ids only grow), None when there is none."""
    return conn.execute(select(func.max(feedback.c.id))).scalar_one_or_none()
