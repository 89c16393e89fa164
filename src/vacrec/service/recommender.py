"""The service layer: one recommendation or one piece of feedback, end to end.

Used by the HTTP routes and by ``vacrec simulate`` alike, so simulated users
walk the same path as real ones. It composes, it does not compute: the catalog
snapshot matches the seeker's words once (features for the agent, then the
cards), the live model — or the content prior when there is none — scores
every industry, the ε-greedy policy picks, the store records.
Every recommendation is stored as an event before it is returned, so every
reward the trainer sees can be tied to the state, action and propensity that
produced it.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property

import numpy as np
from sqlalchemy import Engine

from vacrec.agent.context import ContextEncoder, Contexts, content_match
from vacrec.agent.network import PRIOR_SCALE
from vacrec.agent.policy import CONTENT_PRIOR, Policy, epsilon_greedy, related_industries
from vacrec.agent.skills import skill_texts
from vacrec.app.models import ModelHolder
from vacrec.app.snapshots import SnapshotHolder
from vacrec.app.vacancy_votes import VotedMatch, VoteHolder, swap_cards
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
from vacrec.ranking.index import MATCH_THRESHOLD
from vacrec.ranking.place import WORK_FORMATS, Understood, UnknownArea, WorkFormat, choose
from vacrec.ranking.snapshot import Card, CatalogSnapshot
from vacrec.ranking.vote_prior import VotePrior
from vacrec.service.metrics import Metrics
from vacrec.store import events
from vacrec.store.db import utcnow
from vacrec.store.events import SessionHistory

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecommendedItem:
    """One vacancy shown, with its ranking score (cosine similarity; 0 in fallback order) and
    the seeker's words it shares."""

    card: Card
    score: float
    place_match: bool | None = None  # in the city asked for, or remote; None: none asked
    also_in: tuple[str, ...] = ()  # the other areas the same job is posted in
    propensity: float | None = None  # of its position, when the cards were randomised
    words: tuple[str, ...] = ()  # the preference's words the card shares

    @property
    def id(self) -> str:
        return self.card.id

    @property
    def matched(self) -> bool:
        """True when the card matches the seeker's words well enough to say so: a card sharing
        a word weakly is not called a match (``MATCH_THRESHOLD``)."""
        return self.score >= MATCH_THRESHOLD


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


NO_PLACE = Understood()

SESSION_MIN_VOTES = 3
"""An industry drops below the others for a session once its cards got this many votes there,
most of them −1: the seeker has said enough to stop being shown it first."""


@dataclass(frozen=True)
class SessionSummary:
    """How the seeker's session shaped this answer, for the page to say so."""

    rejected: int  # vacancies rated −1 in this session, never shown again
    shown_before: int  # cards shown again because nothing else of the industry fits
    avoided: tuple[str, ...]  # industries mostly rejected in this session, now tried last


def _below_the_rest(scores: np.ndarray, rows: Sequence[int]) -> np.ndarray:
    """``scores`` with ``rows`` moved below every other action, order among them kept."""
    if not rows:
        return scores
    moved = np.array(scores, dtype=np.float64)
    moved[list(rows)] -= float(moved.max() - moved.min()) + 1.0
    return moved


@dataclass(frozen=True)
class Recommendation:
    """What was served, as stored in the event."""

    event_id: str
    model_version: int | None
    action: int
    industry: str
    propensity: float
    items: tuple[RecommendedItem, ...]
    fallback: bool
    catalog_version: int
    explore: bool
    actions: tuple[str, ...]
    contexts: Contexts  # the seeker's feature rows, kept to explain the choice on demand
    policy_scores: np.ndarray  # [n_actions], what the policy ranked by
    session: SessionSummary | None = None  # None: the request named no session
    preference: str = ""  # the seeker's words, to mark them in the snippets
    place: Understood = NO_PLACE  # the place and work format the answer was chosen for

    @cached_property
    def scores(self) -> tuple[IndustryScore, ...]:
        """Every industry's score for this seeker, in action order (built only when asked:
        the legacy API and simulated seekers never need it)."""
        return industry_scores(self.actions, self.contexts, self.policy_scores, self.model_version)

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
        metrics: Metrics | None = None,
        seed: int | None = None,
        votes: VoteHolder | None = None,
    ) -> None:
        self.engine = engine
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
        self._rng = np.random.default_rng(seed)
        self._rng_lock = threading.Lock()  # numpy Generators are not thread-safe

    @classmethod
    def from_store(
        cls,
        engine: Engine,
        settings: Settings,
        metrics: Metrics | None = None,
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

    def score(self, contexts: Contexts) -> tuple[Policy, np.ndarray]:
        """The serving policy and its scores [n, n_actions]: the live model, else the prior."""
        model = self.models.current
        if model is not None:
            q = model.q_values(contexts)
            if np.isfinite(q).all():
                return model, q
            log.error("model %s gave non-finite Q-values; serving the content prior", model.version)
        return CONTENT_PRIOR, CONTENT_PRIOR.q_values(contexts)

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
        """Pick an industry for the state, rank its vacancies, store the event, return it.

        ``client`` is the requester's identity (``service/clients.py``), kept with the event.
        ``area`` (one of the catalog's) and ``work_format`` win over a place or format said in
        ``preference``; None: read them from the words.
        """
        skill = self._check_state(age, skill)
        if len(preference) > PREFERENCE_MAX_CHARS:
            raise InvalidRequest(
                f"preference: at most {PREFERENCE_MAX_CHARS} characters", field="preference"
            )
        if not K_MIN <= k <= K_MAX:
            raise InvalidRequest(f"k: must be {K_MIN}–{K_MAX}", field="k")
        if session_id is not None and len(session_id) > SESSION_ID_MAX_CHARS:
            raise InvalidRequest(
                f"session_id: at most {SESSION_ID_MAX_CHARS} characters", field="session_id"
            )

        if work_format is not None and work_format not in WORK_FORMATS:
            raise InvalidRequest(
                f"work_format: must be one of {', '.join(WORK_FORMATS)}", field="work_format"
            )
        snapshot = self.snapshot()
        try:
            wanted = snapshot.places.understand(preference, area, _as_format(work_format))
        except UnknownArea as error:
            raise InvalidRequest(str(error), field="area") from None
        match = snapshot.match(preference)
        contexts = self.encoder_for(snapshot).encode_one(
            age, skill, preference, snapshot.features_of(match)
        )
        history = self._session_history(session_id, client)
        policy, scores = self.score(contexts)
        avoided = history.mostly_rejected(SESSION_MIN_VOTES).intersection(snapshot.actions)
        served_scores = _below_the_rest(scores[0], [snapshot.actions.index(a) for a in avoided])
        # Exploration favours the industries the seeker's words point to, so a request that
        # says what it wants seldom gets an unrelated page, and spends the rest where the
        # policy is unsure (see exploration_probabilities).
        related = related_industries(content_match(contexts.content[0]))
        with self._rng_lock:
            decision = epsilon_greedy(
                served_scores,
                len(snapshot.actions),
                self.settings.epsilon,
                self._rng,
                explore,
                related,
                policy.uncertainty(contexts)[0],
                0.0 if policy is CONTENT_PRIOR else self.settings.explore_temperature,
            )
            swap = self.settings.card_swap if explore else 0.0
            u = float(self._rng.random()) if swap > 0 else 0.0  # no draw: streams unchanged
        industry = snapshot.actions[decision.action]
        # The agent's context does not yet say how many of each industry's postings fit the
        # place asked for: an industry with none there may still be chosen (then marked).
        ranked = choose(
            VotedMatch(match, self.votes.current, self.vote_prior, skill, age),
            snapshot.cards,
            industry,
            k + 1 if swap > 0 else k,  # randomising needs the next candidate too
            wanted,
            snapshot.index.size(industry),
            exclude=history.rejected,
            demote=history.shown,
        )
        shown, propensities = swap_cards(ranked.items, k, swap, u)
        items = tuple(
            RecommendedItem(
                snapshot.cards.card(c.number),
                float(c.score),
                c.place_match,
                c.also_in,
                p,
                snapshot.shared_words(preference, c.id) if c.score > 0.0 else (),
            )
            for c, p in zip(shown, propensities or (None,) * len(shown), strict=True)
        )
        event = events.NewEvent(
            id=secrets.token_urlsafe(16),
            created_at=utcnow(),
            session_id=session_id,
            age=age,
            skill=skill,
            preference=preference,
            action=decision.action,
            industry=industry,
            propensity=float(decision.propensity),
            explore=explore,
            model_version=policy.version,
            catalog_version=int(snapshot.version),  # type: ignore[arg-type]
            shown=tuple(item.id for item in items),
            card_propensities=propensities,
            source=source,
            client=client,
        )
        events.insert_event(self.engine, event)
        if self.metrics is not None:
            self.metrics.observe_event(source, explore)
        return Recommendation(
            event_id=event.id,
            model_version=event.model_version,
            action=decision.action,
            industry=industry,
            propensity=event.propensity,
            items=items,
            fallback=bool(ranked.fallback),
            actions=snapshot.actions,
            contexts=contexts,
            policy_scores=served_scores,
            catalog_version=event.catalog_version,
            explore=explore,
            session=SessionSummary(
                rejected=len(history.rejected),
                shown_before=sum(item.id in history.shown for item in items),
                avoided=tuple(sorted(avoided)),
            )
            if session_id is not None
            else None,
            preference=preference,
            place=wanted,
        )

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
            self.engine,
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
                self.engine,
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
                self.engine,
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


def _as_format(work_format: str | None) -> WorkFormat | None:
    if work_format == "remote":
        return "remote"
    if work_format == "office":
        return "office"
    return None if work_format is None else "any"


def industry_scores(
    actions: Sequence[str], contexts: Contexts, scores: np.ndarray, model_version: int | None
) -> tuple[IndustryScore, ...]:
    """Split one seeker's scores into content match and what feedback added (see IndustryScore)."""
    match = content_match(contexts.content[0]).astype(np.float64)
    learned: list[float | None] = [None] * len(actions)
    if model_version is not None:
        moved = scores - PRIOR_SCALE * match
        learned = (moved - moved.mean()).tolist()
    return tuple(
        IndustryScore(name, m, lift, q)
        for name, m, lift, q in zip(
            actions, match.tolist(), learned, np.asarray(scores, float).tolist(), strict=True
        )
    )
