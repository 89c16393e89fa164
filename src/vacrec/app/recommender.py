"""Serving a request and taking feedback, end to end: the use case the HTTP routes call.

Used by the HTTP routes and by ``vacrec simulate`` alike, so simulated users
walk the same path as real ones. It composes, it does not compute: it validates
the request, reads the session's history, lets :func:`vacrec.app.serving.decide`
pick the industry and the cards (the one serving path, shared with the
benchmarks) and stores the event.
Every recommendation is stored as an event before it is returned, so every
reward the trainer sees can be tied to the state, action and propensity that
produced it.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import cached_property
from typing import Protocol

import numpy as np
from sqlalchemy import Engine

from vacrec.agent.context import ContextEncoder, Contexts, content_match
from vacrec.agent.network import PRIOR_SCALE
from vacrec.agent.skills import skill_texts
from vacrec.app.models import ModelHolder
from vacrec.app.serving import (
    CardVotes,
    Decision,
    SeekerRequest,
    SharedGenerator,
    decide,
)
from vacrec.app.snapshots import SnapshotHolder
from vacrec.app.vacancy_votes import VoteHolder
from vacrec.config import Settings
from vacrec.domain import (
    AGE_MAX,
    AGE_MIN,
    K_MAX,
    K_MIN,
    LEGACY_K,
    PREFERENCE_MAX_CHARS,
    SESSION_ID_MAX_CHARS,
)
from vacrec.errors import InvalidRequest, ServiceUnavailable
from vacrec.ranking.place import WORK_FORMATS, UnknownArea
from vacrec.ranking.snapshot import CatalogSnapshot
from vacrec.ranking.vote_prior import VotePrior
from vacrec.store import events
from vacrec.store.db import utcnow
from vacrec.store.events import SessionHistory
from vacrec.store.writes import EachAlone, Writes


class ServingMetrics(Protocol):
    """What the recommender tells the server's metrics (``vacrec.service.metrics.Metrics``):
    a protocol, so the application layer does not depend on the HTTP service."""

    def observe_event(self, source: str, explore: bool) -> None:
        """One recommendation was stored."""

    def observe_feedback(self, kind: str, reward: float) -> None:
        """One piece of feedback was stored."""


@dataclass(frozen=True)
class IndustryScore:
    """Why an industry ranked where it did: the two parts of its score, kept apart.

    ``match``: how well its best postings match the seeker's words (0–1, the
    content prior). ``learned``: how far feedback moved it, relative to the other
    industries (reward units; None while the content prior serves). ``score``:
    what the policy ranked by.
    """

    industry: str
    match: float
    learned: float | None
    score: float


@dataclass(frozen=True)
class SessionSummary:
    """How the seeker's session shaped this answer, for the page to say so."""

    rejected: int  # vacancies rated −1 in this session, never shown again
    shown_before: int  # cards shown again because nothing else of the industry fits
    avoided: tuple[str, ...]  # industries mostly rejected in this session, now tried last


@dataclass(frozen=True)
class Recommendation(Decision):
    """What was served, as stored in the event: the decision, its ids and the request's
    words (to mark them in the snippets)."""

    event_id: str
    catalog_version: int
    actions: tuple[str, ...]
    explore: bool
    preference: str
    session: SessionSummary | None = None  # None: the request named no session

    @cached_property
    def scores(self) -> tuple[IndustryScore, ...]:
        """Every industry's score for this seeker, in action order (built only when asked:
        the legacy API and simulated seekers never need it)."""
        return industry_scores(
            self.actions, self.contexts, self.policy_scores, self.own_scores, self.model_version
        )

    @property
    def q_values(self) -> dict[str, float] | None:
        """Industry → Q-value of the model; None while the content prior serves."""
        if self.model_version is None:
            return None
        return {s.industry: s.score for s in self.scores}


class Recommender:
    """Serve recommendations and take feedback; thread-safe, state lives in the database."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        snapshots: SnapshotHolder,
        models: ModelHolder,
        metrics: ServingMetrics | None = None,
        seed: int | None = None,
        votes: VoteHolder | None = None,
        writes: Writes | None = None,
    ) -> None:
        self.engine = engine
        # Where events and ratings are written: the server's group commit shares one
        # transaction among concurrent requests; in-process use commits each alone.
        self.writes = writes if writes is not None else EachAlone(engine)
        # Per-vacancy votes (app/vacancy_votes.py); a holder nobody started reads on refresh().
        self.votes = votes if votes is not None else VoteHolder(engine, settings.model_poll_s)
        self.vote_prior = VotePrior(
            settings.card_vote_weight, settings.card_vote_prior, settings.card_vote_prior
        )
        self.settings = settings
        self.snapshots = snapshots
        self.models = models
        self.metrics = metrics
        self.vocabulary = settings.skill_vocabulary
        self.skills: tuple[str, ...] = self.vocabulary.skills
        self._skill_texts = skill_texts(self.skills)
        self._encoder: tuple[CatalogSnapshot, ContextEncoder] | None = None
        self._rng = SharedGenerator(seed)

    @classmethod
    def from_store(
        cls,
        engine: Engine,
        settings: Settings,
        metrics: ServingMetrics | None = None,
        seed: int | None = None,
    ) -> Recommender:
        """A recommender over the store's current catalog and live model, without threads.

        For in-process use (``vacrec simulate``, tests): call :meth:`refresh` to pick up
        a new catalog or a newly promoted model; the server's holders poll instead.
        """
        snapshots = SnapshotHolder(engine, settings.catalog_poll_s)
        models = ModelHolder(engine, settings.model_poll_s)
        models.refresh_if_changed()
        service = cls(engine, settings, snapshots, models, metrics, seed)
        service.votes.refresh_if_changed()
        return service

    def refresh(self) -> bool:
        """Swap to a changed catalog and/or live model now; True if anything changed."""
        catalog = self.snapshots.refresh_if_changed()
        model = self.models.refresh_if_changed()
        votes = self.votes.refresh_if_changed()
        return catalog or model or votes

    # --- reading --------------------------------------------------------------------------

    def snapshot(self) -> CatalogSnapshot:
        """The catalog being served, or 503 when none is loaded yet."""
        snapshot = self.snapshots.current
        if snapshot is None or snapshot.version is None or not snapshot.actions:
            raise ServiceUnavailable("no catalog is loaded yet")
        return snapshot

    def encoder_for(self, snapshot: CatalogSnapshot) -> ContextEncoder:
        """The context encoder of ``snapshot`` (made once per catalog version)."""
        cached = self._encoder
        if cached is not None and cached[0] is snapshot:
            return cached[1]
        encoder = ContextEncoder(snapshot, self._skill_texts)
        self._encoder = (snapshot, encoder)
        return encoder

    # --- validation shared with the HTTP schemas ----------------------------------------

    def _check_state(self, age: int, skill: str) -> str:
        """Validate the state; returns the skill as the vocabulary spells it."""
        if isinstance(age, bool) or not isinstance(age, int) or not AGE_MIN <= age <= AGE_MAX:
            raise InvalidRequest(f"age: must be an integer {AGE_MIN}–{AGE_MAX}", field="age")
        canonical = self.vocabulary.canonical(skill)
        if canonical is None:
            raise InvalidRequest(
                f"skill: unknown skill {skill!r}; allowed: {', '.join(self.skills)}",
                field="skill",
            )
        return canonical

    # --- the two operations ---------------------------------------------------------------

    def recommend(
        self,
        age: int,
        skill: str,
        preference: str,
        k: int = 5,
        session_id: str | None = None,
        explore: bool = True,
        source: str = "api",
        client: str | None = None,
        area: str | None = None,
        work_format: str | None = None,
    ) -> Recommendation:
        """:meth:`serve` with the request spelt out, as the routes and the tests call it."""
        request = SeekerRequest(age, skill, preference, k, explore, area, work_format)
        return self.serve(request, session_id, source, client)

    def serve(
        self,
        request: SeekerRequest,
        session_id: str | None = None,
        source: str = "api",
        client: str | None = None,
    ) -> Recommendation:
        """Pick an industry for the seeker, rank its vacancies, store the event, return it.

        ``client`` is the requester's identity (``service/clients.py``), kept with the event.
        """
        request = self._checked(request, session_id)
        snapshot = self.snapshot()
        history = self._session_history(session_id, client)
        try:
            decision = decide(
                snapshot,
                self.encoder_for(snapshot),
                self.models.current,
                request,
                self._rng,
                epsilon=self.settings.epsilon,
                explore_temperature=self.settings.explore_temperature,
                card_swap=self.settings.card_swap,
                history=history,
                votes=CardVotes(self.votes.current, self.vote_prior),
            )
        except UnknownArea as error:
            raise InvalidRequest(str(error), field="area") from None
        event = events.NewEvent(
            id=secrets.token_urlsafe(16),
            created_at=utcnow(),
            session_id=session_id,
            age=request.age,
            skill=request.skill,
            preference=request.preference,
            action=decision.action,
            industry=decision.industry,
            propensity=decision.propensity,
            explore=request.explore,
            model_version=decision.model_version,
            catalog_version=int(snapshot.version),  # type: ignore[arg-type]
            shown=tuple(item.id for item in decision.items),
            card_propensities=decision.card_propensities,
            source=source,
            client=client,
            # What the fields gave (the area as the catalog names it), so training encodes the
            # place the context saw; one said in the words is in the preference.
            area=decision.place.area if request.area is not None else None,
            work_format=request.work_format,
        )
        events.insert_event(self.writes, event)
        if self.metrics is not None:
            self.metrics.observe_event(source, request.explore)
        session = None
        if session_id is not None:
            shown_before = sum(item.id in history.shown for item in decision.items)
            session = SessionSummary(len(history.rejected), shown_before, decision.avoided)
        return Recommendation(
            **vars(decision),  # the decision's fields as they are
            event_id=event.id,
            catalog_version=event.catalog_version,
            actions=snapshot.actions,
            explore=request.explore,
            preference=request.preference,
            session=session,
        )

    def _checked(self, request: SeekerRequest, session_id: str | None) -> SeekerRequest:
        """``request`` validated (a 4xx naming the field), its skill as the vocabulary has it."""
        skill = self._check_state(request.age, request.skill)
        if len(request.preference) > PREFERENCE_MAX_CHARS:
            raise InvalidRequest(
                f"preference: at most {PREFERENCE_MAX_CHARS} characters", field="preference"
            )
        if not K_MIN <= request.k <= K_MAX:
            raise InvalidRequest(f"k: must be {K_MIN}–{K_MAX}", field="k")
        if session_id is not None and len(session_id) > SESSION_ID_MAX_CHARS:
            raise InvalidRequest(
                f"session_id: at most {SESSION_ID_MAX_CHARS} characters", field="session_id"
            )
        if request.work_format is not None and request.work_format not in WORK_FORMATS:
            raise InvalidRequest(
                f"work_format: must be one of {', '.join(WORK_FORMATS)}", field="work_format"
            )
        return replace(request, skill=skill)

    def _session_history(self, session_id: str | None, client: str | None) -> SessionHistory:
        """What this tab was shown and rejected lately (nothing without a session id)."""
        if session_id is None:
            return SessionHistory()
        since = utcnow() - timedelta(seconds=self.settings.session_ttl_s)
        return events.session_history(self.engine, session_id, client, since)

    def feedback(
        self,
        event_id: str,
        votes: Sequence[tuple[str, int]] | None = None,
        cum_reward: int | None = None,
        client: str | None = None,
    ) -> float:
        """Store the reward of an event (votes per vacancy, or their sum); returns tanh(R)."""
        if votes is not None and not votes:  # an empty list would close the event unrated
            raise InvalidRequest("votes: give at least one vote", field="votes")
        stored = events.record_feedback(
            self.writes,
            event_id,
            ttl_s=self.settings.feedback_ttl_s,
            votes=None if votes is None else [(str(v), int(s)) for v, s in votes],
            cum_reward=cum_reward,
            client=client,
        )
        if self.metrics is not None:
            self.metrics.observe_feedback(
                "votes" if votes is not None else "cum_reward", stored.reward
            )
        return stored.reward

    def legacy_write(
        self,
        age: int,
        skill: str,
        action: int,
        cum_reward: int,
        event_id: str | None = None,
        client: str | None = None,
    ) -> float:
        """``POST /api/write/``: tie to the event given, or to the legacy request it answers.

        With an event id the age, skill and action must be the event's own; without
        one, the action must exist and |cum_reward| fit the original's five cards, and
        the store links it to the recent unrated legacy event served to the same
        ``client`` with the same state and action when there is one (else it is kept
        apart as legacy).
        """
        skill = self._check_state(age, skill)
        if event_id is not None:
            stored = events.record_feedback(
                self.writes,
                event_id,
                ttl_s=self.settings.feedback_ttl_s,
                cum_reward=cum_reward,
                expect={"age": age, "skill": skill, "action": action},
                client=client,
            )
            kind = "cum_reward"
        else:
            actions = self.snapshot().actions
            if not 0 <= action < len(actions):
                raise InvalidRequest(f"action: must be 0–{len(actions) - 1}", field="action")
            if abs(cum_reward) > LEGACY_K:
                raise InvalidRequest(
                    f"cum_reward: |{cum_reward}| is larger than the {LEGACY_K} vacancies shown",
                    field="cum_reward",
                )
            stored = events.record_legacy_feedback(
                self.writes,
                age=age,
                skill=skill,
                action=action,
                industry=actions[action],  # by name: indices shift when groups are added
                cum_reward=cum_reward,
                ttl_s=self.settings.feedback_ttl_s,
                client=client,
            )
            kind = "legacy" if stored.event_id is None else "cum_reward"
        if self.metrics is not None:
            self.metrics.observe_feedback(kind, stored.reward)
        return stored.reward


def industry_scores(
    actions: Sequence[str],
    contexts: Contexts,
    scores: np.ndarray,
    own_scores: np.ndarray,
    model_version: int | None,
) -> tuple[IndustryScore, ...]:
    """Split one seeker's scores into content match and what feedback added (see IndustryScore):
    ``scores`` as served (the session's turned-down industries and those with nothing to show
    moved last), what feedback added read from the policy's ``own_scores``."""
    match = content_match(contexts.content[0]).astype(np.float64)
    learned: list[float | None] = [None] * len(actions)
    if model_version is not None:
        moved = own_scores - PRIOR_SCALE * match
        learned = (moved - moved.mean()).tolist()
    return tuple(
        IndustryScore(name, m, lift, q)
        for name, m, lift, q in zip(
            actions, match.tolist(), learned, np.asarray(scores, float).tolist(), strict=True
        )
    )
