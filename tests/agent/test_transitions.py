"""Logged transitions: session links, the catalog they are encoded against, and the store."""

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
    request,
)
from vacrec.agent.context import ContextEncoder
from vacrec.agent.transitions import (
    LoggedRequest,
    Transitions,
    build_transitions,
    load_transitions,
)
from vacrec.store.events import SIMULATED_SOURCES
from vacrec.store.tables import events, feedback
from vacrec.store.transitions import TrainWindow

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


def test_build_links_a_sessions_rated_rows_and_keeps_unrated_ones_as_next_states(
    enc: ContextEncoder,
):
    rows = [
        request("геймдев", IT_WORDS, IT, 0.5, age=25, session_id="s"),
        request("акварель", ART_WORDS, ART, -0.25, age=60),  # no session: terminal
        request("геймдев", MKT_WORDS, ART, None, age=25, session_id="s"),  # never rated
        request("геймдев", "", MKT, 0.75, age=25, session_id="s"),  # last of its session
    ]

    t = build_transitions(rows, enc)

    assert len(t) == 3 and len(t.contexts) == 4  # the unrated request is a state, no transition
    assert t.state.tolist() == [0, 1, 3]
    assert t.next_state.tolist() == [2, -1, -1]
    assert t.dones.tolist() == [False, True, True]
    assert t.actions.tolist() == [0, 1, 2]
    assert t.rewards.dtype == np.float32 and t.rewards.tolist() == [0.5, -0.25, 0.75]
    assert t.propensities.dtype == np.float64
    next_state = t.contexts.take([t.next_state[0]])
    assert next_state.skills == ("геймдев",) and next_state.ages.tolist() == [25]
    np.testing.assert_array_equal(
        next_state.content, enc.encode([25], ["геймдев"], [MKT_WORDS]).content
    )
    assert t.states().skills == ("геймдев", "акварель", "геймдев")
    assert t.dropped == {"unknown_industry": 0}


def test_requests_no_transition_needs_are_not_kept(enc: ContextEncoder):
    rows = [
        request("геймдев", "", IT, None),  # unrated, no session: nobody's next state
        request("геймдев", "", IT, None, session_id="s"),  # unrated, first of its session
        request("акварель", "", ART, 0.5, session_id="s"),
        request("акварель", ART_WORDS, ART, None, session_id="s"),  # the next state
        request("акварель", "", ART, None, session_id="s"),  # after an unrated one
    ]

    t = build_transitions(rows, enc)

    assert len(t) == 1 and len(t.contexts) == 2
    assert t.next_state.tolist() == [1]
    np.testing.assert_array_equal(
        t.contexts.content[1], enc.encode([30], ["акварель"], [ART_WORDS]).content[0]
    )


def test_terminal_build_ends_every_episode(enc: ContextEncoder):
    rows = [
        request("геймдев", "", IT, 0.5, session_id="s"),
        request("геймдев", "", ART, 0.5, session_id="s"),
    ]

    assert build_transitions(rows, enc, terminal=True).dones.all()
    assert not build_transitions(rows, enc).dones[0]


def test_events_whose_industry_left_the_catalog_are_dropped_and_counted(enc: ContextEncoder):
    rows = [
        request("акварель", "", LAW, 0.9),
        request("акварель", "", ART, 0.1),
        request("акварель", "", LAW, None),  # unrated: not a lost transition
        request("акварель", "", "Продажи", -0.3),
    ]

    t = build_transitions(rows, enc)

    assert len(t) == 1 and t.actions.tolist() == [enc.actions.index(ART)]
    assert t.dropped == {"unknown_industry": 2}


def test_a_next_request_whose_industry_left_the_catalog_is_still_the_next_state(
    enc: ContextEncoder,
):
    rows = [
        request("геймдев", IT_WORDS, IT, 0.5, session_id="s"),
        request("геймдев", MKT_WORDS, LAW, None, session_id="s"),  # served a gone group
        request("геймдев", ART_WORDS, ART, 0.5, session_id="s"),
    ]

    t = build_transitions(rows, enc)

    next_state = t.contexts.take([t.next_state[0]])
    np.testing.assert_array_equal(
        next_state.content, enc.encode([30], ["геймдев"], [MKT_WORDS]).content
    )


def test_an_empty_log_builds_empty_transitions(enc: ContextEncoder):
    t = build_transitions([], enc)

    assert len(t) == 0 and len(t.contexts) == 0
    assert t.contexts.content.shape == (0, 3, 7)
    assert t.time_range() == (None, None)


def test_subset_keeps_the_selected_rows_and_shares_the_states(enc: ContextEncoder):
    rows = [
        LoggedRequest(30, "геймдев", "", IT, 0.5, 0.1, "s", T0),
        LoggedRequest(31, "геймдев", "", ART, float("nan"), 0.2, "s", T0 + timedelta(1)),
        LoggedRequest(32, "акварель", "", MKT, 0.25, 0.3, None, T0 + timedelta(2)),
    ]
    t = build_transitions(rows, enc)

    known = t.subset(t.known_propensity)

    assert t.known_propensity.tolist() == [True, False, True]
    assert known.contexts is t.contexts
    assert known.rewards.tolist() == pytest.approx([0.1, 0.3])
    assert known.next_state.tolist() == [1, -1]  # still points at the dropped row's state
    assert known.created_at == [T0, T0 + timedelta(2)]
    assert known.states().ages.tolist() == [30, 32]
    assert t.time_range() == (T0, T0 + timedelta(2))


def test_with_rewards_replaces_only_the_rewards(enc: ContextEncoder):
    t = build_transitions([request("геймдев", "", IT, 0.5), request("x", "", ART, 0.1)], enc)

    other = t.with_rewards(np.array([-1.0, 1.0]))

    assert other.rewards.dtype == np.float32 and other.rewards.tolist() == [-1.0, 1.0]
    assert t.rewards.tolist() == pytest.approx([0.5, 0.1])
    np.testing.assert_array_equal(other.actions, t.actions)


# --- from the store ---------------------------------------------------------------------


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
        newest = load_transitions(conn, enc, window=TrainWindow(events=3), chunk_rows=2)
        everything = load_transitions(conn, enc, window=TrainWindow())

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
