"""Logged transitions for offline training and evaluation, read from the store.

Every rated event is one transition (state, action, reward, propensity,
next state, done). Within a ``session_id`` the next state is the same user's
next request (by ``created_at``), rated or not; otherwise the transition is
terminal. Legacy feedback rows (no event) become terminal transitions with an
unknown propensity (NaN): good for training, unusable for off-policy evaluation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from sqlalchemy import Connection, select

from vacrec.agent.encoding import encode_states, state_size
from vacrec.agent.skills import skill_index
from vacrec.store.tables import events, feedback


@dataclass
class Transitions:
    """Parallel arrays, one row per transition, in chronological order."""

    states: np.ndarray  # float32 [n, 1 + n_skills]
    actions: np.ndarray  # int64 [n]
    rewards: np.ndarray  # float32 [n], tanh(R)
    propensities: np.ndarray  # float64 [n], NaN = unknown (legacy rows)
    next_states: np.ndarray  # float32 [n, 1 + n_skills]; zeros where done
    dones: np.ndarray  # bool [n]
    ages: np.ndarray  # int64 [n]
    skills_idx: np.ndarray  # int64 [n]
    created_at: list[datetime | None] = field(default_factory=list)
    dropped: dict[str, int] = field(default_factory=dict)  # rows skipped, by reason

    def __len__(self) -> int:
        return int(self.actions.shape[0])

    @property
    def known_propensity(self) -> np.ndarray:
        """Rows usable for off-policy evaluation (logged with a propensity)."""
        return ~np.isnan(self.propensities)

    def subset(self, mask: np.ndarray) -> Transitions:
        """The rows where ``mask`` is true."""
        idx = np.flatnonzero(mask)
        return Transitions(
            states=self.states[idx],
            actions=self.actions[idx],
            rewards=self.rewards[idx],
            propensities=self.propensities[idx],
            next_states=self.next_states[idx],
            dones=self.dones[idx],
            ages=self.ages[idx],
            skills_idx=self.skills_idx[idx],
            created_at=[self.created_at[i] for i in idx] if self.created_at else [],
            dropped=dict(self.dropped),
        )

    def time_range(self) -> tuple[datetime | None, datetime | None]:
        """First and last logged time among the rows."""
        times = [t for t in self.created_at if t is not None]
        return (min(times), max(times)) if times else (None, None)


def session_next_index(session_ids: Sequence[str | None]) -> np.ndarray:
    """For chronologically ordered rows, the index of the same session's next row (−1: none)."""
    nxt = np.full(len(session_ids), -1, dtype=np.int64)
    last_seen: dict[str, int] = {}
    for i, sid in enumerate(session_ids):
        if sid is None:
            continue
        if sid in last_seen:
            nxt[last_seen[sid]] = i
        last_seen[sid] = i
    return nxt


def build_transitions(
    ages: np.ndarray,
    skills_idx: np.ndarray,
    actions: np.ndarray,
    rewards: np.ndarray,
    propensities: np.ndarray,
    n_skills: int,
    next_index: np.ndarray,
    keep: np.ndarray | None = None,
    created_at: Sequence[datetime | None] | None = None,
) -> Transitions:
    """Assemble transitions from per-request arrays; ``next_index`` links a row to its
    successor (−1 = terminal) and ``keep`` selects the rows that carry a reward."""
    ages = np.asarray(ages, dtype=np.int64)
    skills_idx = np.asarray(skills_idx, dtype=np.int64)
    states = encode_states(ages, skills_idx, n_skills)
    dones = next_index < 0
    next_states = np.zeros_like(states)
    next_states[~dones] = states[next_index[~dones]]
    keep = np.ones(len(ages), dtype=bool) if keep is None else keep
    idx = np.flatnonzero(keep)
    times = list(created_at) if created_at is not None else []
    return Transitions(
        states=states[idx],
        actions=np.asarray(actions, dtype=np.int64)[idx],
        rewards=np.asarray(rewards, dtype=np.float32)[idx],
        propensities=np.asarray(propensities, dtype=np.float64)[idx],
        next_states=next_states[idx],
        dones=dones[idx],
        ages=ages[idx],
        skills_idx=skills_idx[idx],
        created_at=[times[i] for i in idx] if times else [],
    )


def empty_transitions(n_skills: int) -> Transitions:
    """No rows, with the right widths."""
    d = state_size(n_skills)
    z = np.zeros(0)
    return Transitions(
        states=np.zeros((0, d), np.float32),
        actions=z.astype(np.int64),
        rewards=z.astype(np.float32),
        propensities=z.astype(np.float64),
        next_states=np.zeros((0, d), np.float32),
        dones=z.astype(bool),
        ages=z.astype(np.int64),
        skills_idx=z.astype(np.int64),
    )


def load_transitions(
    conn: Connection, actions: Sequence[str], skills: Sequence[str]
) -> Transitions:
    """Read events joined with their feedback (plus legacy feedback) into transitions.

    Actions are matched by industry *name*, so a logged event stays valid when the
    catalog adds an industry; events whose industry or skill is no longer known are
    dropped and counted in ``dropped``.
    """
    action_of = {name: i for i, name in enumerate(actions)}
    skill_of = skill_index(skills)
    dropped = {"unknown_industry": 0, "unknown_skill": 0, "legacy_bad_action": 0}

    rows = conn.execute(
        select(
            events.c.created_at,
            events.c.session_id,
            events.c.age,
            events.c.skill,
            events.c.industry,
            events.c.propensity,
            feedback.c.reward,
        )
        .select_from(events.outerjoin(feedback, feedback.c.event_id == events.c.id))
        .order_by(events.c.created_at, events.c.id)
    ).all()
    n = len(rows)
    ages = np.zeros(n, np.int64)
    skills_idx = np.zeros(n, np.int64)
    acts = np.zeros(n, np.int64)
    rewards = np.zeros(n, np.float32)
    props = np.zeros(n, np.float64)
    keep = np.zeros(n, dtype=bool)
    usable = np.ones(n, dtype=bool)
    for i, (_, _, age, skill, industry, propensity, reward) in enumerate(rows):
        s = skill_of.get(str(skill).casefold())
        a = action_of.get(industry)
        if s is None or a is None:
            usable[i] = False
            if reward is not None:
                dropped["unknown_skill" if s is None else "unknown_industry"] += 1
            continue
        ages[i], skills_idx[i], acts[i], props[i] = age, s, a, propensity
        if reward is not None:
            rewards[i], keep[i] = reward, True
    # A request we cannot encode cannot be anyone's next state.
    session_ids = [r.session_id if usable[i] else None for i, r in enumerate(rows)]
    nxt = session_next_index(session_ids)
    logged = build_transitions(
        ages,
        skills_idx,
        acts,
        rewards,
        props,
        len(skills),
        nxt,
        keep,
        created_at=[r.created_at for r in rows],
    )

    legacy_rows = conn.execute(
        select(
            feedback.c.created_at,
            feedback.c.age,
            feedback.c.skill,
            feedback.c.action,
            feedback.c.reward,
        )
        .where(feedback.c.event_id.is_(None))
        .order_by(feedback.c.created_at, feedback.c.id)
    ).all()
    legacy_keep = []
    for row in legacy_rows:
        s = skill_of.get(str(row.skill).casefold())
        if s is None:
            dropped["unknown_skill"] += 1
        elif not 0 <= row.action < len(actions):
            dropped["legacy_bad_action"] += 1
        else:
            legacy_keep.append((row, s))
    if legacy_keep:
        m = len(legacy_keep)
        legacy = build_transitions(
            np.array([r.age for r, _ in legacy_keep]),
            np.array([s for _, s in legacy_keep]),
            np.array([r.action for r, _ in legacy_keep]),
            np.array([r.reward for r, _ in legacy_keep]),
            np.full(m, np.nan),
            len(skills),
            np.full(m, -1, dtype=np.int64),
            created_at=[r.created_at for r, _ in legacy_keep],
        )
        logged = concat(logged, legacy)
    logged.dropped = dropped
    return logged


def concat(a: Transitions, b: Transitions) -> Transitions:
    """Rows of ``a`` followed by rows of ``b``."""
    return Transitions(
        states=np.concatenate([a.states, b.states]),
        actions=np.concatenate([a.actions, b.actions]),
        rewards=np.concatenate([a.rewards, b.rewards]),
        propensities=np.concatenate([a.propensities, b.propensities]),
        next_states=np.concatenate([a.next_states, b.next_states]),
        dones=np.concatenate([a.dones, b.dones]),
        ages=np.concatenate([a.ages, b.ages]),
        skills_idx=np.concatenate([a.skills_idx, b.skills_idx]),
        created_at=list(a.created_at) + list(b.created_at),
        dropped={k: a.dropped.get(k, 0) + b.dropped.get(k, 0) for k in {*a.dropped, *b.dropped}},
    )
