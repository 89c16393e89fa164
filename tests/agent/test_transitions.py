"""Logged transitions: session links and the catalog they are encoded against."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

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
from vacrec.agent.context import N_CONTENT, ContextEncoder
from vacrec.agent.transitions import (
    LoggedRequest,
    build_transitions,
)

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
    assert t.contexts.content.shape == (0, 3, N_CONTENT)
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
