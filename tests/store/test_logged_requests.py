"""What training reads from the store: chunks in time order, and the window cut in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, insert

from vacrec.agent.model_meta import TrainingWindow
from vacrec.store.db import utcnow
from vacrec.store.logged_requests import LogRead, legacy_feedback, requests_with_feedback
from vacrec.store.tables import events, feedback

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _log(
    engine: Engine,
    rows: Sequence[tuple[str, datetime, int | None]],
    legacy: Sequence[tuple[datetime, int]] = (),
    source: str = "api",
) -> None:
    """Events (id, time, cum_reward or None: unrated) and legacy rewards (time, age)."""
    with engine.begin() as conn:
        conn.execute(
            insert(events),
            [
                {
                    "id": eid,
                    "created_at": at,
                    "session_id": None,
                    "age": 30,
                    "skill": "живопись",
                    "preference": "",
                    "action": 0,
                    "industry": "Искусство",
                    "propensity": 0.5,
                    "explore": True,
                    "model_version": None,
                    "catalog_version": 1,
                    "shown": [],
                    "source": source,
                }
                for eid, at, _ in rows
            ],
        )
        rated = [(eid, at, cum) for eid, at, cum in rows if cum is not None]
        votes: list[dict[str, Any]] = [
            {"event_id": eid, "created_at": at, "cum_reward": cum, "age": 30}
            for eid, at, cum in rated
        ]
        votes += [
            {"event_id": None, "created_at": at, "cum_reward": 1, "age": age} for at, age in legacy
        ]
        if votes:
            conn.execute(
                insert(feedback),
                [
                    {
                        **v,
                        "skill": "живопись",
                        "action": 0,
                        "industry": "Искусство",
                        "reward": float(v["cum_reward"]),
                        "votes": None,
                        "legacy": v["event_id"] is None,
                    }
                    for v in votes
                ],
            )


def _minutes(engine: Engine, **options: Any) -> list[list[int]]:
    """Each chunk's events as minutes after T0."""
    with engine.connect() as conn:
        return [
            [round((_utc(r.created_at) - T0).total_seconds() / 60) for r in chunk]
            for chunk in requests_with_feedback(conn, LogRead(**options))
        ]


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _at(minute: int) -> datetime:
    return T0 + timedelta(minutes=minute)


def test_requests_come_in_chunks_of_the_asked_size_oldest_first(engine: Engine) -> None:
    _log(engine, [(f"e{m}", _at(m), m if m % 2 else None) for m in (5, 1, 7, 3, 2, 6, 4)])

    assert _minutes(engine, chunk_rows=3) == [[1, 2, 3], [4, 5, 6], [7]]
    with engine.connect() as conn:
        rows = [r for chunk in requests_with_feedback(conn, LogRead(chunk_rows=3)) for r in chunk]
    assert [r.reward for r in rows] == [1.0, None, 3.0, None, 5.0, None, 7.0]


def test_an_empty_log_gives_no_chunk(engine: Engine) -> None:
    assert _minutes(engine) == []


def test_an_events_window_starts_at_the_nth_newest_rated_event(engine: Engine) -> None:
    # rated at 1, 2, 4, 5 (two at minute 5, told apart by id); unrated at 3 and 6
    _log(
        engine,
        [
            ("a", _at(1), 1),
            ("b", _at(2), 1),
            ("c", _at(3), None),
            ("d", _at(4), 1),
            ("e1", _at(5), 1),
            ("e2", _at(5), 1),
            ("f", _at(6), None),
        ],
    )

    newest = _minutes(engine, window=TrainingWindow(events=3))
    assert newest == [[4, 5, 5, 6]]  # the unrated request after them stays: a next state
    assert _minutes(engine, window=TrainingWindow(events=1)) == [[5, 6]]  # e2 only, then f
    assert _minutes(engine, window=TrainingWindow(events=99)) == [[1, 2, 3, 4, 5, 5, 6]]
    assert _minutes(engine, window=TrainingWindow(events=3), chunk_rows=2) == [[4, 5], [5, 6]]


def test_only_the_selected_events_count_towards_the_window(engine: Engine) -> None:
    _log(engine, [("real1", _at(1), 1), ("real2", _at(2), 1)])
    _log(engine, [("sim", _at(3), 1)], source="simulator")

    assert _minutes(engine, window=TrainingWindow(events=1)) == [[2]]
    assert _minutes(engine, window=TrainingWindow(events=1), include_simulated=True) == [[3]]


def test_a_days_window_keeps_the_recent_events(engine: Engine) -> None:
    now = utcnow()
    _log(
        engine,
        [("old", now - timedelta(days=3), 1), ("new", now - timedelta(days=1), None)],
        legacy=[(now - timedelta(days=3), 40), (now - timedelta(hours=1), 41)],
    )

    two_days = LogRead(window=TrainingWindow(days=2))
    with engine.connect() as conn:
        recent = [r for c in requests_with_feedback(conn, two_days) for r in c]
        legacy = [r.age for c in legacy_feedback(conn, two_days) for r in c]
        every = [r.age for c in legacy_feedback(conn) for r in c]
    assert [r.reward for r in recent] == [None]  # only «new», which was never rated
    assert legacy == [41] and every == [40, 41]


def test_legacy_rows_follow_the_events_windows_start(engine: Engine) -> None:
    _log(engine, [("a", _at(10), 1), ("b", _at(20), 1)], legacy=[(_at(5), 40), (_at(15), 41)])

    with engine.connect() as conn:
        windowed = [
            r.age
            for c in legacy_feedback(conn, LogRead(window=TrainingWindow(events=1)))
            for r in c
        ]
        wide = [
            r.age
            for c in legacy_feedback(conn, LogRead(window=TrainingWindow(events=2)))
            for r in c
        ]
    assert windowed == [] and wide == [41]


@pytest.mark.parametrize("bad", [{"events": 0}, {"days": 0}, {"days": -1.0}])
def test_an_empty_window_is_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="window"):
        TrainingWindow(**bad)
