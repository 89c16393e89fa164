"""Logged transitions for offline training and evaluation, read from the store.

Every rated event is one transition (state, action, reward, propensity, next
state, done). Within a ``session_id`` the next state is the same user's next
request (by ``created_at``), rated or not; otherwise the transition is
terminal. States are encoded against the *current* catalog (the one the model
will serve), with actions matched by industry name, so a logged event stays
valid when the catalog adds a group.

What enters is a choice, not an accident: simulated events (``vacrec
simulate``) only when asked, so they never mix with real traffic silently;
legacy feedback rows (``POST /api/write/`` without an event) only when asked,
and then as terminal transitions with an unknown propensity (NaN), usable for
training but not for off-policy evaluation; they are matched to the catalog by
the industry name stored with them, never by their action index.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from sqlalchemy import Connection, select

from vacrec.agent.context import ContextEncoder, Contexts
from vacrec.store.tables import events, feedback

SIMULATED_SOURCES = ("simulator", "bootstrap")
"""Event sources written by simulated job seekers."""


@dataclass
class Transitions:
    """Rated requests as indices into the logged states, in chronological order."""

    contexts: Contexts  # every usable logged request (rated ones and next states)
    state: np.ndarray  # int64 [m]: row of ``contexts`` the action was taken in
    next_state: np.ndarray  # int64 [m]: row of the session's next request, −1 = terminal
    actions: np.ndarray  # int64 [m]: index into ``contexts.actions``
    rewards: np.ndarray  # float32 [m], tanh(R)
    propensities: np.ndarray  # float64 [m], NaN = unknown (legacy rows)
    created_at: list[datetime | None] = field(default_factory=list)
    dropped: dict[str, int] = field(default_factory=dict)  # rows skipped, by reason

    def __len__(self) -> int:
        return int(self.actions.shape[0])

    @property
    def dones(self) -> np.ndarray:
        return self.next_state < 0

    @property
    def known_propensity(self) -> np.ndarray:
        """Rows usable for off-policy evaluation (logged with a propensity)."""
        return ~np.isnan(self.propensities)

    def states(self) -> Contexts:
        """The contexts the actions were taken in, one per transition."""
        return self.contexts.take(self.state)

    def subset(self, mask: np.ndarray) -> Transitions:
        """The rows where ``mask`` is true (states are shared, not copied)."""
        idx = np.flatnonzero(mask)
        return Transitions(
            contexts=self.contexts,
            state=self.state[idx],
            next_state=self.next_state[idx],
            actions=self.actions[idx],
            rewards=self.rewards[idx],
            propensities=self.propensities[idx],
            created_at=[self.created_at[i] for i in idx] if self.created_at else [],
            dropped=dict(self.dropped),
        )

    def split_newest(self, share: float) -> tuple[Transitions, Transitions]:
        """(older, newest): the newest ``share`` of the rows held out, e.g. to evaluate a model
        on events it was not trained on."""
        if not 0.0 <= share < 1.0:
            raise ValueError(f"share must be in [0, 1), got {share}")
        cut = len(self) - round(share * len(self))
        older = np.arange(len(self)) < cut
        return self.subset(older), self.subset(~older)

    def with_rewards(self, rewards: np.ndarray) -> Transitions:
        """The same log with other rewards (benchmarks: what random rewards teach)."""
        return Transitions(
            self.contexts,
            self.state,
            self.next_state,
            self.actions,
            np.asarray(rewards, dtype=np.float32),
            self.propensities,
            list(self.created_at),
            dict(self.dropped),
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


@dataclass(frozen=True)
class LoggedRequest:
    """One logged request as the trainer needs it (rated or not)."""

    age: int
    skill: str
    preference: str
    industry: str
    propensity: float
    reward: float | None  # None: never rated
    session_id: str | None = None
    created_at: datetime | None = None


def build_transitions(
    requests: Sequence[LoggedRequest], encoder: ContextEncoder, terminal: bool = False
) -> Transitions:
    """Encode chronologically ordered requests and link each rated one to its session's next
    request (``terminal=True``: every transition ends its episode, as for legacy rows)."""
    action_of = {name: i for i, name in enumerate(encoder.actions)}
    # Every request can be a state (a next state needs no action); only a rated request whose
    # industry left the catalog cannot become a transition.
    contexts = encoder.encode(
        [r.age for r in requests], [r.skill for r in requests], [r.preference for r in requests]
    )
    if terminal:
        nxt = np.full(len(requests), -1, dtype=np.int64)
    else:
        nxt = session_next_index([r.session_id for r in requests])
    rated = [i for i, r in enumerate(requests) if r.reward is not None]
    kept = np.asarray([i for i in rated if requests[i].industry in action_of], dtype=np.int64)
    return Transitions(
        contexts=contexts,
        state=kept,
        next_state=nxt[kept],
        actions=np.asarray([action_of[requests[i].industry] for i in kept], dtype=np.int64),
        rewards=np.asarray([requests[i].reward for i in kept], dtype=np.float32),
        propensities=np.asarray([requests[i].propensity for i in kept], dtype=np.float64),
        created_at=[requests[i].created_at for i in kept],
        dropped={"unknown_industry": len(rated) - len(kept)},
    )


def concat(a: Transitions, b: Transitions) -> Transitions:
    """Rows of ``a`` followed by rows of ``b`` (states of ``b`` renumbered after ``a``'s)."""
    if a.contexts.actions != b.contexts.actions:
        raise ValueError("transitions of different action lists cannot be joined")
    offset = len(a.contexts)
    contexts = Contexts(
        np.concatenate([a.contexts.ages, b.contexts.ages]),
        a.contexts.skills + b.contexts.skills,
        np.concatenate([a.contexts.content, b.contexts.content]),
        a.contexts.actions,
    )
    return Transitions(
        contexts=contexts,
        state=np.concatenate([a.state, b.state + offset]),
        next_state=np.concatenate(
            [a.next_state, np.where(b.next_state < 0, -1, b.next_state + offset)]
        ),
        actions=np.concatenate([a.actions, b.actions]),
        rewards=np.concatenate([a.rewards, b.rewards]),
        propensities=np.concatenate([a.propensities, b.propensities]),
        created_at=list(a.created_at) + list(b.created_at),
        dropped={k: a.dropped.get(k, 0) + b.dropped.get(k, 0) for k in {*a.dropped, *b.dropped}},
    )


def load_transitions(
    conn: Connection,
    encoder: ContextEncoder,
    include_simulated: bool = False,
    include_legacy: bool = False,
) -> Transitions:
    """Read events joined with their feedback (and, if asked, legacy feedback) into transitions."""
    query = (
        select(
            events.c.created_at,
            events.c.session_id,
            events.c.age,
            events.c.skill,
            events.c.preference,
            events.c.industry,
            events.c.propensity,
            feedback.c.reward,
        )
        .select_from(events.outerjoin(feedback, feedback.c.event_id == events.c.id))
        .order_by(events.c.created_at, events.c.id)
    )
    if not include_simulated:
        query = query.where(events.c.source.not_in(SIMULATED_SOURCES))
    logged = build_transitions(
        [
            LoggedRequest(
                age=row.age,
                skill=row.skill,
                preference=row.preference,
                industry=row.industry,
                propensity=row.propensity,
                reward=row.reward,
                session_id=row.session_id,
                created_at=row.created_at,
            )
            for row in conn.execute(query)
        ],
        encoder,
    )
    if not include_legacy:
        return logged
    legacy_rows = conn.execute(
        select(
            feedback.c.created_at,
            feedback.c.age,
            feedback.c.skill,
            feedback.c.industry,
            feedback.c.reward,
        )
        .where(feedback.c.event_id.is_(None))
        .order_by(feedback.c.created_at, feedback.c.id)
    ).all()
    legacy = build_transitions(
        [
            LoggedRequest(
                age=row.age,
                skill=row.skill,
                preference="",
                industry=row.industry or "",  # by name, as written (migration 0002)
                propensity=float("nan"),
                reward=row.reward,
                created_at=row.created_at,
            )
            for row in legacy_rows
        ],
        encoder,
        terminal=True,
    )
    return concat(logged, legacy)
