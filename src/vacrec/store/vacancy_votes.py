"""SQL of the per-vacancy vote sums: read the logged votes, replace the sums, read them back."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, text

from vacrec.store.events import SIMULATED_SOURCES
from vacrec.store.lock_ids import AdvisoryLock
from vacrec.store.tables import events, feedback, vacancy_votes

VOTES_LOCK_KEY = int(AdvisoryLock.VOTES)  # a plain int: psycopg would send an Enum by its name
_BATCH = 5_000


def rated_votes(
    conn: Connection, include_simulated: bool
) -> Iterator[tuple[str, int, Any, str | None]]:
    """``(skill, age, votes, client)`` of every rated event (``votes`` is None or empty when
    the reward came as a sum: JSON null is not SQL NULL); simulated events only with
    ``include_simulated`` (as training reads them). Streamed."""
    query = (
        select(events.c.skill, events.c.age, feedback.c.votes, feedback.c.client)
        .select_from(feedback.join(events, feedback.c.event_id == events.c.id))
        .where(feedback.c.votes.is_not(None))
    )
    if not include_simulated:
        query = query.where(events.c.source.not_in(SIMULATED_SOURCES))
    for row in conn.execution_options(yield_per=_BATCH).execute(query):
        yield str(row.skill), int(row.age), row.votes, row.client


def replace_vacancy_votes(
    conn: Connection, sums: Mapping[tuple[str, str], tuple[int, int]], computed_at: datetime
) -> None:
    """Replace every row with ``sums`` ((vacancy id, group) → (up, down)), in the caller's
    transaction. On PostgreSQL a transaction lock makes two replicas' jobs take turns (two
    deletes then two inserts of the same keys would collide)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": VOTES_LOCK_KEY})
    conn.execute(delete(vacancy_votes))
    rows = [
        {"vacancy_id": vid, "group_key": group, "up": up, "down": down, "computed_at": computed_at}
        for (vid, group), (up, down) in sums.items()
    ]
    for start in range(0, len(rows), _BATCH):
        conn.execute(insert(vacancy_votes), rows[start : start + _BATCH])


def votes_stamp(conn: Connection) -> tuple[datetime | None, int]:
    """When the sums were last written and how many rows: a cheap poll key."""
    row = conn.execute(
        select(func.max(vacancy_votes.c.computed_at), func.count()).select_from(vacancy_votes)
    ).one()
    return row[0], int(row[1])


def read_vacancy_votes(conn: Connection) -> Iterable[tuple[str, str, int, int]]:
    """Every ``(vacancy_id, group_key, up, down)`` row."""
    query = select(
        vacancy_votes.c.vacancy_id,
        vacancy_votes.c.group_key,
        vacancy_votes.c.up,
        vacancy_votes.c.down,
    )
    return [(str(r[0]), str(r[1]), int(r[2]), int(r[3])) for r in conn.execute(query)]
