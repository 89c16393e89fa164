"""Logged transitions read from the store: which rows enter, in chunks, in a window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import Engine, insert

from tests.agent.agent_fixtures import (
    ART,
    ART_WORDS,
    IT,
    IT_WORDS,
    LAW,
    MKT,
    MKT_WORDS,
    encoder,
)
from vacrec.agent.context import PLACE_MISS, ContextEncoder
from vacrec.agent.model_meta import TrainingWindow
from vacrec.agent.transitions import Transitions
from vacrec.app.training_logs import load_transitions
from vacrec.store.events import SIMULATED_SOURCES
from vacrec.store.tables import events, feedback

T0 = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def enc() -> ContextEncoder:
    return encoder()  # actions: IT, art, marketing


def _naive(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive UTC, PostgreSQL aware: compare as naive UTC."""
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


# --- building from requests ----------------------------------------------------------


def _event(
    eid: str,
    minute: int,
    age: int,
    skill: str,
    industry: str,
    *,
    preference: str = "",
    propensity: float = 1 / 3,
    session: str | None = None,
    source: str = "api",
    place: tuple[str | None, str | None] = (None, None),
) -> dict:
    """An events row as :func:`vacrec.store.events.insert_event` writes it."""
    return {
        "id": eid,
        "created_at": T0 + timedelta(minutes=minute),
        "session_id": session,
        "age": age,
        "skill": skill,
        "preference": preference,
        "action": 0,
        "industry": industry,
        "propensity": propensity,
        "explore": True,
        "model_version": None,
        "catalog_version": 1,
        "shown": ["a1"],
        "source": source,
        "area": place[0],
        "work_format": place[1],
    }


def _feedback(
    eid: str | None,
    minute: int,
    age: int,
    skill: str,
    action: int,
    cum: int,
    industry: str | None = None,
) -> dict:
    """A feedback row as the service writes it (``event_id`` None: a legacy write)."""
    return {
        "event_id": eid,
        "created_at": T0 + timedelta(minutes=minute),
        "age": age,
        "skill": skill,
        "action": action,
        "industry": industry,
        "cum_reward": cum,
        "reward": float(np.tanh(cum)),
        "votes": None,
        "legacy": eid is None,
    }


@pytest.fixture
def logged(engine: Engine) -> Engine:
    with engine.begin() as conn:
        conn.execute(
            insert(events),
            [
                # session "s": three requests, inserted out of order; the middle one is unrated
                _event("s3", 30, 25, "геймдев", MKT, propensity=0.9, session="s"),
                _event(
                    "s1", 10, 25, "геймдев", IT, preference=IT_WORDS, propensity=0.9, session="s"
                ),
                _event("s2", 20, 25, "геймдев", ART, preference=MKT_WORDS, session="s"),
                _event("lone", 15, 60, "акварель", ART, preference=ART_WORDS),
                _event("gone", 16, 40, "акварель", LAW),  # industry left the catalog
                _event("sim", 12, 44, "живопись", MKT, source=SIMULATED_SOURCES[0]),
                _event("boot", 13, 45, "живопись", IT, source=SIMULATED_SOURCES[1]),
            ],
        )
        conn.execute(
            insert(feedback),
            [
                _feedback("s1", 11, 25, "геймдев", 0, 3),
                _feedback("s3", 31, 25, "геймдев", 2, -1),
                _feedback("lone", 16, 60, "акварель", 1, 5),
                _feedback("gone", 17, 40, "акварель", 0, 1),
                _feedback("sim", 13, 44, "живопись", 2, 2),
                _feedback("boot", 14, 45, "живопись", 0, -2),
                _feedback(None, 5, 33, "иллюстрация", 2, -5, MKT),  # legacy: no event
                _feedback(None, 6, 34, "иллюстрация", 9, 1, LAW),  # legacy, group gone
            ],
        )
    return engine


def test_store_rows_become_transitions_in_time_order_with_session_links(
    logged: Engine, enc: ContextEncoder
):
    with logged.connect() as conn:
        t = load_transitions(conn, enc)

    # rated real events in time order: s1, lone, s3 («gone» dropped, simulated left out)
    assert len(t) == 3
    assert [enc.actions[a] for a in t.actions] == [IT, ART, MKT]
    np.testing.assert_allclose(t.rewards, np.tanh([3, 5, -1]), rtol=1e-6)
    assert t.propensities.tolist() == pytest.approx([0.9, 1 / 3, 0.9])
    assert t.dones.tolist() == [False, True, True]
    assert t.dropped == {"unknown_industry": 1}
    # s1's next state is the same seeker's next request s2, though s2 was never rated
    np.testing.assert_array_equal(
        t.contexts.content[t.next_state[0]], enc.encode([25], ["геймдев"], [MKT_WORDS]).content[0]
    )
    np.testing.assert_array_equal(
        t.states().content[1], enc.encode([60], ["акварель"], [ART_WORDS]).content[0]
    )
    first, last = t.time_range()
    assert _naive(first) == datetime(2024, 1, 1, 0, 10)
    assert _naive(last) == datetime(2024, 1, 1, 0, 30)


def test_simulated_events_enter_only_when_asked(logged: Engine, enc: ContextEncoder):
    with logged.connect() as conn:
        real = load_transitions(conn, enc)
        everything = load_transitions(conn, enc, include_simulated=True)

    assert set(SIMULATED_SOURCES) == {"simulator", "bootstrap"}
    assert "живопись" not in real.contexts.skills
    assert len(everything) == 5
    simulated = [i for i, s in enumerate(everything.states().skills) if s == "живопись"]
    assert [enc.actions[everything.actions[i]] for i in simulated] == [MKT, IT]
    assert everything.rewards[simulated].tolist() == pytest.approx(np.tanh([2, -2]).tolist())


def test_legacy_rows_enter_only_when_asked_and_have_unknown_propensity(
    logged: Engine, enc: ContextEncoder
):
    with logged.connect() as conn:
        t = load_transitions(conn, enc, include_legacy=True)

    # the three real transitions, then the one legacy row whose industry is in the catalog
    assert len(t) == 4
    assert np.isnan(t.propensities[3])
    assert t.known_propensity.tolist() == [True, True, True, False]
    assert t.dones[3]
    assert enc.actions[t.actions[3]] == MKT
    assert t.rewards[3] == pytest.approx(np.tanh(-5))
    legacy = t.states().take([3])
    assert legacy.ages.tolist() == [33] and legacy.skills == ("иллюстрация",)
    assert not legacy.content[0, :, :3].any()  # no preference was logged
    assert t.dropped == {"unknown_industry": 2}  # «gone», and the legacy row of a gone group
    first, _ = t.time_range()
    assert _naive(first) == datetime(2024, 1, 1, 0, 5)  # the legacy row


def test_a_legacy_reward_keeps_its_industry_when_a_group_is_inserted_before_it(
    engine: Engine, enc: ContextEncoder
):
    """Written as action 1 when the list was [art, marketing]; an ingest then added IT, which
    sorts first, so index 1 now names art — the reward was for marketing, and stays so."""
    with engine.begin() as conn:
        conn.execute(insert(feedback), [_feedback(None, 1, 30, "живопись", 1, 4, MKT)])

    with engine.connect() as conn:
        t = load_transitions(conn, enc, include_legacy=True)

    assert enc.actions[1] != MKT  # the index now names another group
    assert len(t) == 1 and enc.actions[t.actions[0]] == MKT


def _same(a: Transitions, b: Transitions) -> None:
    """The same transitions: same rows, and each row's state and next state hold the same."""
    for name in ("state", "next_state", "actions", "rewards", "propensities", "times"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert a.dropped == b.dropped and a.created_at == b.created_at
    np.testing.assert_array_equal(a.contexts.content, b.contexts.content)
    np.testing.assert_array_equal(a.contexts.ages, b.contexts.ages)
    assert a.contexts.skills == b.contexts.skills


@pytest.mark.parametrize("chunk_rows", [1, 2, 3])
def test_reading_in_chunks_gives_the_same_transitions_as_one_read(
    logged: Engine, enc: ContextEncoder, chunk_rows: int
):
    with logged.connect() as conn:
        for simulated, legacy in [(False, False), (True, True)]:
            whole = load_transitions(conn, enc, simulated, legacy, chunk_rows=10_000)
            chunked = load_transitions(conn, enc, simulated, legacy, chunk_rows=chunk_rows)
            _same(chunked, whole)


def test_a_session_split_across_chunks_keeps_its_next_state(logged: Engine, enc: ContextEncoder):
    with logged.connect() as conn:
        t = load_transitions(conn, enc, chunk_rows=1)  # s1 and its next request s2 apart

    assert t.dones.tolist() == [False, True, True]
    np.testing.assert_array_equal(
        t.contexts.content[t.next_state[0]], enc.encode([25], ["геймдев"], [MKT_WORDS]).content[0]
    )


def test_a_window_keeps_the_newest_rated_events(logged: Engine, enc: ContextEncoder):
    with logged.connect() as conn:
        newest = load_transitions(conn, enc, window=TrainingWindow(events=3), chunk_rows=2)
        everything = load_transitions(conn, enc, window=TrainingWindow())

    # the newest three rated real events: lone, gone (left the catalog), s3
    assert len(newest) == 2 and newest.dropped == {"unknown_industry": 1}
    assert [enc.actions[a] for a in newest.actions] == [ART, MKT]
    np.testing.assert_allclose(newest.rewards, np.tanh([5, -1]), rtol=1e-6)
    first, _ = newest.time_range()
    assert _naive(first) == datetime(2024, 1, 1, 0, 15)
    assert len(everything) == 3


def test_an_empty_store_gives_no_transitions(engine: Engine, enc: ContextEncoder):
    with engine.connect() as conn:
        t = load_transitions(conn, enc, include_simulated=True, include_legacy=True)

    assert len(t) == 0


def test_the_place_given_in_a_requests_fields_is_encoded_as_it_was_served(
    engine: Engine, enc: ContextEncoder
):
    """Serving's context reads the place and format of the fields as well as the words', so
    training must read the logged fields: a remote-only request misses every office posting."""
    with engine.begin() as conn:
        conn.execute(
            insert(events),
            [
                _event(
                    "fields", 1, 30, "акварель", ART, preference=ART_WORDS, place=(None, "remote")
                ),
                _event("words", 2, 30, "акварель", ART, preference=ART_WORDS + " удалённо"),
                _event("none", 3, 30, "акварель", ART, preference=ART_WORDS),
            ],
        )
        conn.execute(
            insert(feedback),
            [_feedback(e, 4, 30, "акварель", 1, 1) for e in ("fields", "words", "none")],
        )
    with engine.connect() as conn:
        content = load_transitions(conn, enc).states().content
    remote = enc.encode([30], ["акварель"], [ART_WORDS], [(None, "remote")]).content[0]
    np.testing.assert_array_equal(content[0], remote)
    assert content[0, :, PLACE_MISS].min() > 0  # the catalog has no remote art or IT job
    np.testing.assert_array_equal(content[1, :, PLACE_MISS], content[0, :, PLACE_MISS])
    assert not content[2, :, PLACE_MISS].any()  # nothing asked: every posting fits
