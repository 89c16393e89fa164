"""Transitions built from real store rows: sessions, terminals, legacy feedback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import Engine, insert

from vacrec.agent.encoding import encode_state
from vacrec.agent.transitions import load_transitions
from vacrec.store.tables import events, feedback

ACTIONS = ("Искусство", "ИТ", "Маркетинг")
SKILLS = ("акварель", "геймдев", "иллюстрация")
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _event(eid, minute, age, skill, industry, propensity=1 / 3, session=None):
    return {
        "id": eid,
        "created_at": T0 + timedelta(minutes=minute),
        "session_id": session,
        "age": age,
        "skill": skill,
        "preference": "кисти",
        "action": ACTIONS.index(industry) if industry in ACTIONS else 0,
        "industry": industry,
        "propensity": propensity,
        "explore": True,
        "model_version": None,
        "catalog_version": 1,
        "shown": ["v1"],
        "source": "test",
    }


def _feedback(eid, minute, age, skill, action, cum):
    return {
        "event_id": eid,
        "created_at": T0 + timedelta(minutes=minute),
        "age": age,
        "skill": skill,
        "action": action,
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
                _event("s3", 30, 25, "геймдев", "Маркетинг", 0.9, session="s"),
                _event("s1", 10, 25, "геймдев", "ИТ", 0.9, session="s"),
                _event("s2", 20, 25, "геймдев", "Искусство", 0.05, session="s"),
                _event("lone", 15, 60, "акварель", "Искусство"),
                _event("gone", 16, 40, "акварель", "Юристы"),  # industry left the catalog
            ],
        )
        conn.execute(
            insert(feedback),
            [
                _feedback("s1", 11, 25, "геймдев", 1, 3),
                _feedback("s3", 31, 25, "геймдев", 2, -1),
                _feedback("lone", 16, 60, "акварель", 0, 5),
                _feedback("gone", 17, 40, "акварель", 0, 1),
                _feedback(None, 5, 33, "иллюстрация", 2, -5),  # legacy: no event
            ],
        )
    return engine


def test_session_links_next_request_and_other_rows_are_terminal(logged: Engine):
    with logged.connect() as conn:
        t = load_transitions(conn, ACTIONS, SKILLS)
    # rated events in time order (s1, lone, s3), then the legacy row
    assert len(t) == 4
    assert t.actions.tolist() == [1, 0, 2, 2]
    np.testing.assert_allclose(t.rewards, np.tanh([3, 5, -1, -5]), rtol=1e-6)
    assert t.dones.tolist() == [False, True, True, True]
    # s1's next state is the same user's next request s2, even though s2 was never rated
    np.testing.assert_allclose(t.next_states[0], encode_state(25, 1, len(SKILLS)))
    np.testing.assert_allclose(t.states[1], encode_state(60, 0, len(SKILLS)))
    assert not t.next_states[1:].any()
    assert t.dropped["unknown_industry"] == 1


def test_legacy_rows_train_but_have_unknown_propensity(logged: Engine):
    with logged.connect() as conn:
        t = load_transitions(conn, ACTIONS, SKILLS)
    assert t.propensities[:3].tolist() == pytest.approx([0.9, 1 / 3, 0.9])
    assert np.isnan(t.propensities[3])
    assert t.known_propensity.tolist() == [True, True, True, False]
    assert t.ages[3] == 33 and t.skills_idx[3] == 2
    first, last = t.time_range()  # SQLite hands back naive UTC, PostgreSQL aware
    assert first.replace(tzinfo=None) == datetime(2024, 1, 1, 0, 5)  # the legacy row
    assert last.replace(tzinfo=None) == datetime(2024, 1, 1, 0, 30)
