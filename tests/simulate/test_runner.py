"""The runner drives the real service layer; simulated events land in the store like real ones."""

from __future__ import annotations

from collections import Counter
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine, func, select

from tests.simulate.catalogs import small_snapshot
from vacrec.agent.policy import ANY_INDUSTRY_SHARE
from vacrec.app.ingest import ingest_paths
from vacrec.app.recommender import Recommender
from vacrec.app.snapshots import load_snapshot
from vacrec.config import Settings
from vacrec.domain import SkillVocabulary
from vacrec.simulate.env import JobSeekerEnv
from vacrec.simulate.runner import run_simulation
from vacrec.store.db import make_engine, migrate
from vacrec.store.tables import events, feedback


def _demo_store(engine: Engine) -> None:
    demo = resources.files("vacrec.catalog").joinpath("demo/vacancies.jsonl")
    with resources.as_file(demo) as path:
        ingest_paths(engine, [path], source="test")


def _explore_all(settings: Settings) -> Settings:
    return settings.model_copy(update={"epsilon": 1.0})


def _served_log(engine: Engine) -> list[tuple]:
    """Every event with its feedback, in the order they were made."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                events.c.age,
                events.c.skill,
                events.c.preference,
                events.c.industry,
                events.c.shown,
                feedback.c.votes,
                feedback.c.reward,
            )
            .join(feedback, feedback.c.event_id == events.c.id)
            .order_by(events.c.created_at, events.c.id)
        ).all()
    return [tuple(r) for r in rows]


def test_simulated_seekers_leave_events_and_feedback_in_the_store(
    sqlite_engine: Engine, settings: Settings
):
    _demo_store(sqlite_engine)
    service = Recommender.from_store(sqlite_engine, _explore_all(settings), seed=0)
    skills = SkillVocabulary(settings.extra_skills).skills
    env = JobSeekerEnv(load_snapshot(sqlite_engine), skills, seed=0)
    n_actions = len(env.actions)

    summary = run_simulation(service, env, events=120, seed=5)

    assert summary.events == 120 and summary.sessions > 0 and summary.users < 120
    with sqlite_engine.connect() as conn:
        rows = conn.execute(
            select(
                events.c.session_id, events.c.propensity, events.c.source, events.c.shown
            ).order_by(events.c.created_at, events.c.id)
        ).all()
        votes = conn.execute(select(feedback.c.votes, feedback.c.reward)).all()
        per_session = (
            conn.execute(
                select(func.count())
                .select_from(events)
                .where(events.c.session_id.is_not(None))
                .group_by(events.c.session_id)
            )
            .scalars()
            .all()
        )
    assert len(rows) == 120 and len(votes) == 120
    assert {r.source for r in rows} == {"simulator"}
    # ε = 1: every request explores, mostly among the industries its words match (k of
    # them), so each propensity is 1/n (none or all match), share/n (an unrelated one), or
    # (1 − share)/k + share/n (a related one, for some whole k). A session's later request
    # may find an industry emptied by its rejections, never drawn, the rest renormalised:
    # only a session's first request is held to these forms.
    share = ANY_INDUSTRY_SHARE
    firsts, sessions = [], set()
    for r in rows:
        if r.session_id is None or r.session_id not in sessions:
            firsts.append(r)
        sessions.add(r.session_id)
    assert len(firsts) > 60
    for r in firsts:
        if r.propensity in (pytest.approx(1 / n_actions), pytest.approx(share / n_actions)):
            continue
        related_k = (1 - share) / (r.propensity - share / n_actions)
        assert related_k == pytest.approx(round(related_k)), r.propensity
    assert max(r.propensity for r in rows) > 1 / n_actions  # the related are favoured
    assert set(per_session) <= {2, 3}
    singles = sum(r.session_id is None for r in rows)
    assert summary.users == singles + len(per_session)
    assert np.mean([v.reward for v in votes]) == pytest.approx(summary.mean_reward)
    # every shown card got a ±1 vote, and the reward is tanh of their sum
    log = _served_log(sqlite_engine)
    assert len(log) == 120
    for *_, shown, vote_list, reward in log:
        if not shown:  # the session had rejected every posting of the industry: cum_reward 0
            assert vote_list is None and reward == 0.0
            continue
        assert [v["vacancy_id"] for v in vote_list] == list(shown)
        assert {v["vote"] for v in vote_list} <= {-1, 1}
        assert reward == pytest.approx(np.tanh(sum(v["vote"] for v in vote_list)))
    # every request explored (ε = 1), so the seekers get less than the best industry would give
    assert -1 <= summary.mean_reward < summary.mean_oracle - 0.1 <= 1


def test_the_simulated_seekers_are_the_environments_own(sqlite_engine: Engine, settings: Settings):
    _demo_store(sqlite_engine)
    service = Recommender.from_store(sqlite_engine, _explore_all(settings), seed=0)
    env = JobSeekerEnv(load_snapshot(sqlite_engine), SkillVocabulary().skills, seed=0)
    summary = run_simulation(service, env, events=40, seed=9)
    seekers = env.sample_seekers(40, np.random.default_rng(9))  # the runner draws them so
    expected = Counter(
        (int(seekers.ages[i]), env.skills[seekers.skills[i]], seekers.preferences[i])
        for i in range(summary.users)
    )
    served = Counter((age, skill, pref) for age, skill, pref, *_ in _served_log(sqlite_engine))
    assert set(served) == set(expected)  # each seeker asks 1–3 times
    assert sum(served.values()) == 40


def test_the_same_seed_replays_the_same_simulation(tmp_path: Path, settings: Settings):
    logs = []
    for run in range(2):
        engine = make_engine(f"sqlite:///{tmp_path / f'run{run}.db'}")
        migrate(engine)
        _demo_store(engine)
        service = Recommender.from_store(engine, _explore_all(settings), seed=3)
        env = JobSeekerEnv(load_snapshot(engine), SkillVocabulary().skills, seed=0)
        summary = run_simulation(service, env, events=30, seed=4)
        logs.append((summary, _served_log(engine)))
        engine.dispose()
    assert logs[0] == logs[1]


def test_a_simulator_built_on_another_catalog_is_refused(sqlite_engine: Engine, settings: Settings):
    _demo_store(sqlite_engine)
    service = Recommender.from_store(sqlite_engine, _explore_all(settings), seed=0)
    other = small_snapshot([("x", "Художник", "Живопись маслом.", ("Чужая отрасль",))])
    env = JobSeekerEnv(other, SkillVocabulary().skills, seed=0)
    with pytest.raises(ValueError, match="catalog"):
        run_simulation(service, env, events=5, seed=0)


def test_events_must_be_positive():
    env = JobSeekerEnv(
        small_snapshot([("x", "Художник", "Живопись маслом.", ("Искусство",))]),
        SkillVocabulary().skills,
    )
    with pytest.raises(ValueError):
        run_simulation(None, env, events=0)  # type: ignore[arg-type]
