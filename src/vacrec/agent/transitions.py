"""Logged transitions for offline training and evaluation, built from logged requests.

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

Logs can be far larger than memory allows as Python objects, so the store
hands rows over in chunks (``vacrec.store.logged_requests``, read by
``vacrec.app.training_logs``) and each chunk is turned into numpy arrays at
once. Only the requests a transition needs are encoded and kept — the rated
ones and each one's next request — so unrated traffic costs nothing beyond
the read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import numpy as np

from vacrec.agent.context import N_CONTENT, ContextEncoder, Contexts

NO_TIMES = np.empty(0, dtype="datetime64[us]")
NO_CLIENTS = np.empty(0, dtype=np.int64)
UNKNOWN_CLIENT = -1
"""Client code of a row logged with no identity (in-process, or before migration 0004)."""


@dataclass
class Transitions:
    """Rated requests as indices into the logged states, in chronological order."""

    contexts: Contexts  # the logged requests a transition needs (its state, its next state)
    state: np.ndarray  # int64 [m]: row of ``contexts`` the action was taken in
    next_state: np.ndarray  # int64 [m]: row of the session's next request, −1 = terminal
    actions: np.ndarray  # int64 [m]: index into ``contexts.actions``
    rewards: np.ndarray  # float32 [m], tanh(R)
    propensities: np.ndarray  # float64 [m], NaN = unknown (legacy rows)
    times: np.ndarray = field(default_factory=lambda: NO_TIMES)  # datetime64[us] UTC [m], NaT
    clients: np.ndarray = field(default_factory=lambda: NO_CLIENTS)  # int64 [m], −1 = unknown
    aware: bool = False  # the store gave timezone-aware times: hand them back as UTC-aware
    dropped: dict[str, int] = field(default_factory=dict)  # rows skipped, by reason

    def __len__(self) -> int:
        return int(self.actions.shape[0])

    @property
    def dones(self) -> np.ndarray:
        return self.next_state < 0

    @property
    def known_propensity(self) -> np.ndarray:
        """Rows usable for off-policy evaluation (logged with a propensity)."""
        known: np.ndarray = ~np.isnan(self.propensities)
        return known

    @property
    def created_at(self) -> list[datetime | None]:
        """When each row was logged (built on demand: a datetime per row is heavy)."""
        return [self._as_datetime(t) for t in self.times]

    def _as_datetime(self, moment: np.datetime64) -> datetime | None:
        if np.isnat(moment):
            return None
        naive: datetime = moment.astype("datetime64[us]").astype(datetime)
        return naive.replace(tzinfo=UTC) if self.aware else naive

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
            times=self.times[idx] if self.times.size else self.times,
            clients=self.clients[idx] if self.clients.size else self.clients,
            aware=self.aware,
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
            contexts=self.contexts,
            state=self.state,
            next_state=self.next_state,
            actions=self.actions,
            rewards=np.asarray(rewards, dtype=np.float32),
            propensities=self.propensities,
            times=self.times,
            clients=self.clients,
            aware=self.aware,
            dropped=dict(self.dropped),
        )

    def time_range(self) -> tuple[datetime | None, datetime | None]:
        """First and last logged time among the rows."""
        known = self.times[~np.isnat(self.times)] if self.times.size else self.times
        if not known.size:
            return None, None
        return self._as_datetime(known.min()), self._as_datetime(known.max())


class Request(Protocol):
    """One logged request as the trainer reads it: a store row or a :class:`LoggedRequest`."""

    @property
    def age(self) -> int: ...
    @property
    def skill(self) -> str: ...
    @property
    def preference(self) -> str: ...
    @property
    def industry(self) -> str: ...
    @property
    def propensity(self) -> float: ...
    @property
    def reward(self) -> float | None: ...
    @property
    def session_id(self) -> str | None: ...
    @property
    def created_at(self) -> datetime | None: ...
    @property
    def client(self) -> str | None: ...
    @property
    def area(self) -> str | None: ...
    @property
    def work_format(self) -> str | None: ...


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
    client: str | None = None  # the requester's identity; None: unknown
    area: str | None = None  # the place given in the request's field; None: none given
    work_format: str | None = None  # likewise the work format


_DTYPES: dict[str, Any] = {
    "state": np.int64,
    "actions": np.int64,
    "rewards": np.float32,
    "propensities": np.float64,
    "times": "datetime64[us]",
    "clients": np.int64,
    "link_from": np.int64,  # a transition …
    "link_to": np.int64,  # … and the state row of its session's next request
}


class TransitionBuilder:
    """Turns chronologically ordered chunks of requests into :class:`Transitions`.

    Session links cross chunk boundaries: ``_open`` remembers, per session, the
    transition its last request was, until the session's next request arrives.
    A request is encoded only when it is a transition or the next state of one.
    """

    def __init__(self, encoder: ContextEncoder) -> None:
        self.encoder = encoder
        self._action_of = {name: i for i, name in enumerate(encoder.actions)}
        self._skill_names: dict[str, str] = {}  # one str object per skill, shared by all rows
        self._open: dict[str, int] = {}
        self._client_codes: dict[str, int] = {}  # identity → small int, in order of appearance
        self._states = 0
        self._transitions = 0
        self._dropped = 0
        self._aware = False
        self._ages: list[np.ndarray] = []
        self._skills: list[str] = []
        self._content: list[np.ndarray] = []
        self._parts: dict[str, list[np.ndarray]] = {name: [] for name in _DTYPES}

    def add(self, rows: Iterable[Request], terminal: bool = False) -> None:
        """One chunk, oldest first (``terminal``: every transition ends its episode)."""
        kept: list[Request] = []
        cols: dict[str, list[Any]] = {name: [] for name in _DTYPES}
        for row in rows:
            sid = None if terminal else row.session_id
            previous = self._open.pop(sid, -1) if sid is not None else -1
            action = -1
            if row.reward is not None:
                action = self._action_of.get(row.industry, -1)
                if action < 0:
                    self._dropped += 1
            if action < 0 and previous < 0:
                continue  # neither a transition nor the next state of one
            state = self._states + len(kept)
            kept.append(row)
            if previous >= 0:
                cols["link_from"].append(previous)
                cols["link_to"].append(state)
            if action < 0:
                continue
            if sid is not None:
                self._open[sid] = self._transitions
            self._transitions += 1
            cols["state"].append(state)
            cols["actions"].append(action)
            cols["rewards"].append(row.reward)
            cols["propensities"].append(row.propensity)
            cols["times"].append(self._utc(row.created_at))
            cols["clients"].append(self._client_code(row.client))
        self._encode(kept)
        for name, values in cols.items():
            self._parts[name].append(np.asarray(values, dtype=_DTYPES[name]))

    def _client_code(self, client: str | None) -> int:
        if client is None:
            return UNKNOWN_CLIENT
        return self._client_codes.setdefault(client, len(self._client_codes))

    def _utc(self, moment: datetime | None) -> datetime | None:
        if moment is None or moment.tzinfo is None:
            return moment
        self._aware = True
        return moment.astimezone(UTC).replace(tzinfo=None)

    def _encode(self, kept: Sequence[Request]) -> None:
        skills = [self._skill_names.setdefault(r.skill, r.skill) for r in kept]
        contexts = self.encoder.encode(
            [r.age for r in kept],
            skills,
            [r.preference for r in kept],
            [(r.area, r.work_format) for r in kept],
        )
        self._ages.append(contexts.ages)
        self._skills.extend(skills)
        self._content.append(contexts.content)
        self._states += len(kept)

    def _column(self, name: str) -> np.ndarray:
        parts = self._parts[name]
        return np.concatenate(parts) if parts else np.empty(0, dtype=_DTYPES[name])

    def build(self) -> Transitions:
        """The transitions so far (call once, after the last chunk)."""
        content = np.empty((self._states, len(self.encoder.actions), N_CONTENT), dtype=np.float32)
        at = 0
        while self._content:  # copy chunk by chunk, freeing each: peak ≈ one copy, not two
            part = self._content.pop(0)
            content[at : at + len(part)] = part
            at += len(part)
        ages = np.concatenate(self._ages) if self._ages else np.empty(0, dtype=np.int64)
        next_state = np.full(self._transitions, -1, dtype=np.int64)
        next_state[self._column("link_from")] = self._column("link_to")
        return Transitions(
            contexts=Contexts(ages, tuple(self._skills), content, self.encoder.actions),
            state=self._column("state"),
            next_state=next_state,
            actions=self._column("actions"),
            rewards=self._column("rewards"),
            propensities=self._column("propensities"),
            times=self._column("times"),
            clients=self._column("clients"),
            aware=self._aware,
            dropped={"unknown_industry": self._dropped},
        )


def build_transitions(
    requests: Sequence[LoggedRequest], encoder: ContextEncoder, terminal: bool = False
) -> Transitions:
    """Encode chronologically ordered requests and link each rated one to its session's next
    request (``terminal=True``: every transition ends its episode, as for legacy rows)."""
    builder = TransitionBuilder(encoder)
    builder.add(requests, terminal=terminal)
    return builder.build()


__all__ = [
    "LoggedRequest",
    "TransitionBuilder",
    "Transitions",
    "build_transitions",
]
