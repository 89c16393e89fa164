"""Writing events and their feedback, each write in one transaction.

An event is one served recommendation; feedback is its reward. The database,
not this process, guarantees one feedback per event (the unique constraint on
``feedback.event_id``), so two workers racing on the same event give one 200
and one 409, never two rows or a 500. Given an engine, each write commits alone;
given :class:`~vacrec.store.writes.Writes` (the server's group commit), a
write may share its transaction with other requests' writes, and returns once
that transaction committed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select
from sqlalchemy.exc import IntegrityError

from vacrec.domain import as_utc
from vacrec.errors import AlreadyRated, FeedbackExpired, InvalidFeedback, UnknownEvent
from vacrec.store.db import utcnow
from vacrec.store.tables import events, feedback, model_promotions, models
from vacrec.store.writes import Writes, writes_of


@dataclass(frozen=True)
class NewEvent:
    """Everything needed to replay or learn from one recommendation later."""

    id: str
    created_at: datetime
    session_id: str | None
    age: int
    skill: str
    preference: str
    action: int
    industry: str
    propensity: float
    explore: bool
    model_version: int | None
    catalog_version: int
    shown: tuple[str, ...]
    source: str
    client: str | None = None  # the requester's identity (service/clients.py); None: in-process
    card_propensities: tuple[float, ...] | None = None  # per shown card; None: not randomised
    area: str | None = None  # given in the request's field (the catalog's name); None: not given
    work_format: str | None = None  # likewise: remote, any or office


@dataclass(frozen=True)
class StoredFeedback:
    event_id: str | None
    cum_reward: int
    reward: float


LEGACY_SOURCE = "legacy"
"""The source of events served by ``GET /api/recommend/``, whose writes may carry no id."""
SIMULATED_SOURCES = ("simulator", "bootstrap")
"""Event sources written by simulated job seekers (kept out of training unless asked)."""


def _storable(text: str) -> str:
    # PostgreSQL text cannot hold NUL; it carries no meaning for ranking either.
    return text.replace("\x00", "")


def insert_event(db: Engine | Writes, event: NewEvent) -> None:
    """Store one served recommendation; returns once it is committed."""
    writes_of(db).run(partial(_insert_event, event=event))


def _insert_event(conn: Connection, event: NewEvent) -> None:
    # Values as parameters, not .values(): the compiled INSERT is cached and reused.
    conn.execute(
        insert(events),
        {
            "id": event.id,
            "created_at": event.created_at,
            "session_id": event.session_id,
            "age": event.age,
            "skill": event.skill,
            "preference": _storable(event.preference),
            "action": event.action,
            "industry": event.industry,
            "propensity": event.propensity,
            "explore": event.explore,
            "model_version": event.model_version,
            "catalog_version": event.catalog_version,
            "shown": list(event.shown),
            "source": event.source,
            "client": event.client,
            "card_propensities": None
            if event.card_propensities is None
            else list(event.card_propensities),
            "area": event.area,
            "work_format": event.work_format,
        },
    )


def reward_of(cum_reward: int) -> float:
    """The training reward: the vote sum squashed into (-1, 1)."""
    return math.tanh(cum_reward)


def _sum_votes(votes: Sequence[tuple[str, int]], shown: Sequence[str]) -> int:
    seen: set[str] = set()
    for vacancy_id, vote in votes:
        if isinstance(vote, bool) or vote not in (1, -1):
            raise InvalidFeedback(
                f"votes: vote on {vacancy_id!r} must be 1 or -1, got {vote!r}", field="votes"
            )
        if vacancy_id not in shown:
            raise InvalidFeedback(
                f"votes: vacancy {vacancy_id!r} was not shown in this event", field="votes"
            )
        if vacancy_id in seen:
            raise InvalidFeedback(
                f"votes: vacancy {vacancy_id!r} is voted on more than once", field="votes"
            )
        seen.add(vacancy_id)
    return sum(vote for _, vote in votes)


def _check_event_matches(row: object, expect: dict[str, object]) -> None:
    for name, value in expect.items():
        if getattr(row, name) != value:
            raise InvalidFeedback(
                f"{name}: {value!r} does not match the event ({getattr(row, name)!r})", field=name
            )


def _insert_feedback(conn: Connection, **values: object) -> None:
    conn.execute(insert(feedback).values(created_at=utcnow(), **values))


def record_feedback(
    db: Engine | Writes,
    event_id: str,
    *,
    ttl_s: float,
    votes: Sequence[tuple[str, int]] | None = None,
    cum_reward: int | None = None,
    expect: dict[str, object] | None = None,
    client: str | None = None,
) -> StoredFeedback:
    """Tie feedback to its event after every check, in one transaction.

    Order of checks: unknown event (404), already rated (409), expired (410),
    then the content (422). ``expect`` lets the legacy write insist that the
    age, skill and action it sends are the event's own.
    """
    if (votes is None) == (cum_reward is None):
        raise InvalidFeedback("give exactly one of 'votes' or 'cum_reward'", field="votes")
    try:
        return writes_of(db).run(
            lambda conn: _feedback_of_event(
                conn, event_id, ttl_s, votes, cum_reward, expect, client
            )
        )
    except IntegrityError:
        # Another request stored this event's feedback between our check and our insert.
        raise AlreadyRated(
            f"event_id: {event_id!r} already has feedback", field="event_id"
        ) from None


def _feedback_of_event(
    conn: Connection,
    event_id: str,
    ttl_s: float,
    votes: Sequence[tuple[str, int]] | None,
    cum_reward: int | None,
    expect: dict[str, object] | None,
    client: str | None,
) -> StoredFeedback:
    """:func:`record_feedback`'s checks and insert, inside the caller's transaction."""
    # The event and whether it is rated in one query: a round trip less in every rating.
    row = conn.execute(
        select(events, feedback.c.id.label("rated_by"))
        .select_from(events.outerjoin(feedback, feedback.c.event_id == events.c.id))
        .where(events.c.id == event_id)
    ).first()
    if row is None:
        raise UnknownEvent(f"event_id: no recommendation {event_id!r}", field="event_id")
    if row.rated_by is not None:
        raise AlreadyRated(f"event_id: {event_id!r} already has feedback", field="event_id")
    if utcnow() - as_utc(row.created_at) > timedelta(seconds=ttl_s):
        raise FeedbackExpired(
            f"event_id: {event_id!r} is older than {ttl_s:g} s and takes no feedback",
            field="event_id",
        )
    if expect:
        _check_event_matches(row, expect)
    shown = tuple(row.shown)
    if votes is not None:
        total = _sum_votes(votes, shown)
        stored_votes: list[dict[str, object]] | None = [
            {"vacancy_id": v, "vote": s} for v, s in votes
        ]
    else:
        assert cum_reward is not None
        if isinstance(cum_reward, bool) or abs(cum_reward) > len(shown):
            raise InvalidFeedback(
                f"cum_reward: |{cum_reward}| is larger than the {len(shown)} vacancies shown",
                field="cum_reward",
            )
        total, stored_votes = cum_reward, None
    reward = reward_of(total)
    _insert_feedback(
        conn,
        event_id=event_id,
        age=row.age,
        skill=row.skill,
        action=row.action,
        industry=row.industry,
        cum_reward=total,
        reward=reward,
        votes=stored_votes,
        legacy=False,
        client=client,
    )
    return StoredFeedback(event_id=event_id, cum_reward=total, reward=reward)


def record_legacy_feedback(
    db: Engine | Writes,
    *,
    age: int,
    skill: str,
    action: int,
    industry: str,
    cum_reward: int,
    ttl_s: float,
    client: str | None = None,
) -> StoredFeedback:
    """A write from the original API, which sends no event id.

    Its client fetched the cards from ``GET /api/recommend/`` a moment before, so the
    newest unrated legacy event served to the same ``client`` with the same age, skill
    and industry within the feedback TTL is that request: the reward is tied to it,
    with its logged propensity, and trains like any rated event. Another client's
    event is never taken (it would steal that seeker's rating). A write that matches
    no such event is stored apart, marked ``legacy`` (kept out of training by default).
    """
    reward = reward_of(cum_reward)
    values = {"age": age, "skill": skill, "action": action, "industry": industry}
    values |= {"cum_reward": cum_reward, "reward": reward, "votes": None, "client": client}
    writes = writes_of(db)
    try:
        event_id = writes.run(
            partial(_legacy_feedback, ttl_s=ttl_s, shown_at_least=abs(cum_reward), values=values)
        )
    except IntegrityError:
        # A concurrent write took that event between our read and our insert: store apart.
        event_id = None
        writes.run(lambda conn: _insert_feedback(conn, event_id=None, legacy=True, **values))
    return StoredFeedback(event_id=event_id, cum_reward=cum_reward, reward=reward)


def _legacy_feedback(
    conn: Connection, ttl_s: float, shown_at_least: int, values: dict[str, object]
) -> str | None:
    """Store a legacy write, tied to the event it answers when one is found (its id)."""
    event_id = _unrated_legacy_event(conn, ttl_s=ttl_s, shown_at_least=shown_at_least, **values)
    _insert_feedback(conn, event_id=event_id, legacy=event_id is None, **values)
    return event_id


def _unrated_legacy_event(
    conn: Connection, *, ttl_s: float, shown_at_least: int, **values: object
) -> str | None:
    """The newest legacy event of this state and action that still takes feedback."""
    rated = select(feedback.c.id).where(feedback.c.event_id == events.c.id).exists()
    row = conn.execute(
        select(events.c.id, events.c.shown)
        .where(
            events.c.source == LEGACY_SOURCE,
            events.c.age == values["age"],
            events.c.skill == values["skill"],
            events.c.action == values["action"],
            events.c.industry == values["industry"],
            events.c.client.is_(None)
            if values["client"] is None
            else events.c.client == values["client"],
            events.c.created_at >= utcnow() - timedelta(seconds=ttl_s),
            ~rated,
        )
        .order_by(events.c.created_at.desc())
        .limit(1)
    ).first()
    if row is None or len(row.shown) < shown_at_least:
        return None
    return str(row.id)


SESSION_EVENTS_MAX = 200
"""A session's history reads at most its newest this many events: bounded work per request."""


@dataclass(frozen=True)
class SessionHistory:
    """What one seeker's session has been shown and how they rated it."""

    shown: frozenset[str] = frozenset()
    rejected: frozenset[str] = frozenset()  # vacancies rated −1
    votes_by_industry: dict[str, tuple[int, int]] = field(default_factory=dict)
    """industry → (votes −1, votes in all) this session gave its cards."""

    def mostly_rejected(self, min_votes: int) -> frozenset[str]:
        """Industries whose cards got at least ``min_votes`` votes, most of them −1."""
        return frozenset(
            name
            for name, (down, votes) in self.votes_by_industry.items()
            if votes >= min_votes and 2 * down > votes
        )


def session_history(
    engine: Engine, session_id: str, client: str | None, since: datetime
) -> SessionHistory:
    """The session's events since ``since`` served to ``client`` (a session id names a
    tab, not a person: another client using the same id shares nothing with it)."""
    who = events.c.client.is_(None) if client is None else events.c.client == client
    query = (
        select(events.c.shown, events.c.industry, feedback.c.votes)
        .select_from(events.outerjoin(feedback, feedback.c.event_id == events.c.id))
        .where(events.c.session_id == session_id, events.c.created_at >= since, who)
        .order_by(events.c.created_at.desc())
        .limit(SESSION_EVENTS_MAX)
    )
    shown: set[str] = set()
    rejected: set[str] = set()
    by_industry: dict[str, tuple[int, int]] = {}
    with engine.connect() as conn:
        for row in conn.execute(query):
            shown.update(row.shown)
            votes = row.votes or []
            down = sum(1 for v in votes if v.get("vote") == -1)
            rejected.update(str(v["vacancy_id"]) for v in votes if v.get("vote") == -1)
            old_down, old_votes = by_industry.get(row.industry, (0, 0))
            by_industry[row.industry] = (old_down + down, old_votes + len(votes))
    return SessionHistory(frozenset(shown), frozenset(rejected), by_industry)


def clear_logs(engine: Engine) -> None:
    """Forget every event, rating and model, keeping the catalog (benchmarks measure one log
    at a time in the same store)."""
    with engine.begin() as conn:
        for table in (feedback, events, model_promotions, models):
            conn.execute(delete(table))


def insert_rated_events(
    conn: Connection, event_rows: Sequence[dict[str, Any]], feedback_rows: Sequence[dict[str, Any]]
) -> None:
    """Bulk-insert events with their feedback as given (benchmarks fill big logs this way;
    serving writes one event at a time through :func:`insert_event`)."""
    conn.execute(insert(events), list(event_rows))
    conn.execute(insert(feedback), list(feedback_rows))
