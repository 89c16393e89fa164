"""The event store on its own: one transaction per write, the database enforces one feedback."""

from __future__ import annotations

import math
import threading
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, insert, select, update

from tests.store.rows import new_event
from vacrec.errors import AlreadyRated, FeedbackExpired, InvalidFeedback, UnknownEvent
from vacrec.store import events as store
from vacrec.store.db import utcnow
from vacrec.store.tables import catalog_versions, events, feedback


def _event(engine: Engine, event_id: str = "e1", shown: tuple[str, ...] = ("a", "b")) -> None:
    with engine.begin() as conn:
        if conn.execute(select(func.count()).select_from(catalog_versions)).scalar_one() == 0:
            conn.execute(
                insert(catalog_versions).values(
                    created_at=utcnow(), source="test", inserted=0, updated=0, vacancies=0
                )
            )
    store.insert_event(engine, new_event(event_id, shown, preference="nul\x00here"))


def test_feedback_checks_in_order(engine: Engine) -> None:
    with pytest.raises(UnknownEvent):
        store.record_feedback(engine, "nope", ttl_s=60, cum_reward=1)
    _event(engine)
    with pytest.raises(InvalidFeedback, match="votes"):
        store.record_feedback(engine, "e1", ttl_s=60, votes=[("zzz", 1)])
    with pytest.raises(InvalidFeedback, match="cum_reward"):
        store.record_feedback(engine, "e1", ttl_s=60, cum_reward=3)
    stored = store.record_feedback(engine, "e1", ttl_s=60, votes=[("a", 1), ("b", 1)])
    assert stored.cum_reward == 2 and math.isclose(stored.reward, math.tanh(2))
    with pytest.raises(AlreadyRated):
        store.record_feedback(engine, "e1", ttl_s=60, cum_reward=1)

    _event(engine, "old")
    with engine.begin() as conn:
        conn.execute(
            update(events)
            .where(events.c.id == "old")
            .values(created_at=utcnow() - timedelta(seconds=61))
        )
    with pytest.raises(FeedbackExpired):
        store.record_feedback(engine, "old", ttl_s=60, cum_reward=1)
    with engine.connect() as conn:
        assert conn.execute(select(events.c.preference).where(events.c.id == "e1")).scalar() == (
            "nulhere"
        )


def test_racing_insert_is_already_rated(engine: Engine) -> None:
    """A feedback committed after our check but before our insert: 409 from the constraint."""
    _event(engine)
    outcome: list[BaseException | float] = []
    with engine.connect() as holder:
        holder.begin()
        holder.execute(
            insert(feedback).values(
                event_id="e1",
                created_at=utcnow(),
                age=30,
                skill="акварель",
                action=0,
                cum_reward=1,
                reward=math.tanh(1),
                legacy=False,
            )
        )

        def racer() -> None:
            try:
                outcome.append(store.record_feedback(engine, "e1", ttl_s=60, cum_reward=-1).reward)
            except BaseException as error:
                outcome.append(error)

        thread = threading.Thread(target=racer)
        thread.start()
        thread.join(timeout=0.5)  # it is blocked on our uncommitted row (lock or unique index)
        assert thread.is_alive()
        holder.commit()
    thread.join(timeout=30)
    assert len(outcome) == 1 and isinstance(outcome[0], AlreadyRated)
    with engine.connect() as conn:
        rows = conn.execute(select(feedback.c.cum_reward)).scalars().all()
    assert rows == [1]


def test_legacy_feedback_without_a_matching_request_has_no_event(engine: Engine) -> None:
    stored = store.record_legacy_feedback(
        engine,
        age=20,
        skill="геймдев",
        action=2,
        industry="Маркетинг, реклама, PR",
        cum_reward=-5,
        ttl_s=60,
    )
    assert stored.event_id is None and math.isclose(stored.reward, math.tanh(-5))
    with engine.connect() as conn:
        row = conn.execute(select(feedback)).one()
    assert row.legacy is True and row.event_id is None and row.action == 2
    assert row.industry == "Маркетинг, реклама, PR"
