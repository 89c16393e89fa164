"""The serving decision: which industry and which cards one request gets, and with what odds.

:func:`decide` is the one serving path. The service (``app/recommender.py``) validates
the request, reads the session's history, calls it and stores the event; the benchmarks call
it directly on the same snapshot, so what they measure is what the service serves. It does no
I/O: everything it needs — the catalog snapshot, the live model, the session's history, the
vote table and the random generator — is handed to it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import cast

import numpy as np

from vacrec.agent.context import CARDS, ContextEncoder, Contexts
from vacrec.agent.policy import CONTENT_PRIOR, Policy, epsilon_greedy, related_to_words
from vacrec.app.vacancy_votes import VotedMatch, swap_cards
from vacrec.ranking.index import MATCH_COVERAGE, MATCH_THRESHOLD, Match
from vacrec.ranking.place import (
    Understood,
    WorkFormat,
    choose,
    said_place,
    topic,
    word_coverage,
)
from vacrec.ranking.snapshot import Card, CatalogSnapshot
from vacrec.ranking.vote_prior import VotePrior, VoteTable
from vacrec.store.events import SessionHistory

log = logging.getLogger(__name__)

SESSION_MIN_VOTES = 3
"""An industry drops below the others for a session once its cards got this many votes there,
most of them −1: the seeker has said enough to stop being shown it first."""

NO_HISTORY = SessionHistory()


@dataclass(frozen=True)
class SeekerRequest:
    """What one seeker asks for. The service validates it (``Recommender.serve``: a 4xx naming
    the field, the skill spelt as the vocabulary has it); :func:`decide` trusts it.

    ``area`` (one of the catalog's) and ``work_format`` (one of ``WORK_FORMATS``) win over a
    place or format said in ``preference``; None: read them from the words."""

    age: int
    skill: str
    preference: str
    k: int = 5
    explore: bool = True
    area: str | None = None
    work_format: str | None = None


@dataclass(frozen=True)
class CardVotes:
    """The seeker groups' per-vacancy votes and how much they weigh against the text."""

    table: VoteTable
    prior: VotePrior


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
    coverage: float = 0.0  # the share of the words' weight the card holds

    @property
    def id(self) -> str:
        return self.card.id

    @property
    def matched(self) -> bool:
        """True when the card matches the seeker's words well enough to say so: a card sharing
        a word weakly is not called a match (``MATCH_THRESHOLD``), one saying nearly all of
        them is, wherever it says them (``MATCH_COVERAGE``)."""
        return self.score >= MATCH_THRESHOLD or (self.score > 0 and self.coverage >= MATCH_COVERAGE)


@dataclass(frozen=True)
class Decision:
    """What one request is served: the action with its propensity, and the cards."""

    action: int
    industry: str
    propensity: float
    items: tuple[RecommendedItem, ...]
    card_propensities: tuple[float, ...] | None  # None: the cards were not randomised
    fallback: bool  # the cards are the industry's latest, not matches of the words
    model_version: int | None  # the model that scored; None: the content prior
    contexts: Contexts  # the seeker's feature rows, kept to explain the choice
    policy_scores: np.ndarray  # [n_actions], what serving ranked by
    own_scores: np.ndarray  # [n_actions], the policy's, before the session's and the empty moves
    avoided: tuple[str, ...]  # industries this session mostly rejected, tried last
    place: Understood  # the place and work format the cards were chosen for


class SharedGenerator(AbstractContextManager[np.random.Generator]):
    """One numpy Generator for a process's threads: ``with shared as rng:`` holds it alone
    (a Generator is not thread-safe; one stream keeps a seeded service reproducible)."""

    def __init__(self, seed: int | None = None) -> None:
        self._generator = np.random.default_rng(seed)
        self._lock = threading.Lock()

    def __enter__(self) -> np.random.Generator:
        self._lock.acquire()
        return self._generator

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


def policy_scores(model: Policy | None, contexts: Contexts) -> tuple[Policy, np.ndarray]:
    """The serving policy and its scores [n, n_actions]: ``model``, else the content prior
    (also when the model gives a non-finite score: a broken model must not serve)."""
    if model is not None:
        q = model.q_values(contexts)
        if np.isfinite(q).all():
            return model, q
        log.error("model %s gave non-finite Q-values; serving the content prior", model.version)
    return CONTENT_PRIOR, CONTENT_PRIOR.q_values(contexts)


def _as_format(work_format: str | None) -> WorkFormat | None:
    if work_format == "remote":
        return "remote"
    if work_format == "office":
        return "office"
    return None if work_format is None else "any"


def _below_the_rest(scores: np.ndarray, rows: Sequence[int]) -> np.ndarray:
    """``scores`` with ``rows`` moved below every other action, order among them kept."""
    if not rows:
        return scores
    moved = np.array(scores, dtype=np.float64)
    moved[list(rows)] -= float(moved.max() - moved.min()) + 1.0
    return moved


def decide(
    snapshot: CatalogSnapshot,
    encoder: ContextEncoder,
    model: Policy | None,
    request: SeekerRequest,
    rng: AbstractContextManager[np.random.Generator],
    *,
    epsilon: float,
    explore_temperature: float = 0.0,
    card_swap: float = 0.0,
    history: SessionHistory = NO_HISTORY,
    votes: CardVotes | None = None,
) -> Decision:
    """Pick the industry for ``request`` and rank its cards.

    ``rng`` is entered only while drawing (the ε-greedy choice, then the card swap), so a
    generator shared by threads is held for two draws, not for the ranking. Raises
    :class:`vacrec.ranking.place.UnknownArea` for an area the catalog does not have."""
    wanted = snapshot.places.understand(
        request.preference, request.area, _as_format(request.work_format)
    )
    # The industries are judged by the postings the session has left: one that matched the
    # words only through postings rejected under another industry (a posting listed in two)
    # would otherwise be chosen for a match it can no longer show.
    match = snapshot.match_left(snapshot.match(topic(request.preference, wanted)), history.rejected)
    # Only a model reads the expected card cosines and the place miss (the costliest context
    # columns): the content prior weighs both 0, and events store no context (training
    # encodes the logged request again), so the cold start serves without them.
    nothing = np.zeros(len(snapshot.actions), dtype=np.float32)
    contexts = encoder.encode_one(
        request.age,
        request.skill,
        request.preference,
        snapshot.features_of(match),
        snapshot.expected_cosines_of(match)
        if model is not None
        else np.zeros((len(snapshot.actions), 1 + CARDS), dtype=np.float32),
        snapshot.place_miss(wanted) if model is not None else nothing,
    )
    policy, scores = policy_scores(model, contexts)
    avoided = history.mostly_rejected(SESSION_MIN_VOTES).intersection(snapshot.actions)
    avoided_rows = [snapshot.actions.index(a) for a in avoided]
    # An industry with nothing left to show this request (none of its postings in the work
    # format the fields ask for, or all rejected by the session) would serve an empty page:
    # it is never drawn, and goes below every other for the greedy choice.
    servable = snapshot.servable(wanted, history.rejected)
    empty_rows = np.flatnonzero(~servable).tolist() if servable.any() else []
    served_scores = _below_the_rest(scores[0], avoided_rows)
    served_scores = _below_the_rest(served_scores, empty_rows)
    # Exploration favours the industries the seeker's words point to, so a request that
    # says what it wants seldom gets an unrelated page, and spends the rest where the
    # policy is unsure (see exploration_probabilities).
    related = related_to_words(contexts.content[0])
    # Nor does exploration favour an industry the session turned down (it may still land
    # there through the share spread where the policy is unsure): asking again after
    # rating every card 👎 must not bring the same industry's leftovers back.
    related[avoided_rows] = False
    unsure = policy.uncertainty(contexts)[0] if request.explore else None  # greedy needs none
    swap = card_swap if request.explore else 0.0
    with rng as generator:
        chosen = epsilon_greedy(
            served_scores,
            len(snapshot.actions),
            epsilon,
            generator,
            request.explore,
            related,
            unsure,
            0.0 if policy is CONTENT_PRIOR else explore_temperature,
            servable,
        )
        u = float(generator.random()) if swap > 0 else 0.0  # no draw: streams unchanged
    industry = snapshot.actions[chosen.action]
    ranker = match
    if votes is not None:
        # choose() only asks its match for top_k, which VotedMatch answers with the votes in.
        voted = VotedMatch(match, votes.table, votes.prior, request.skill, request.age)
        ranker = cast(Match, voted)
    ranked = choose(
        ranker,
        snapshot.cards,
        industry,
        request.k + 1 if swap > 0 else request.k,  # randomising needs the next candidate too
        wanted,
        snapshot.index.size(industry),
        exclude=history.rejected,
        demote=history.shown,
    )
    shown, propensities = swap_cards(ranked.items, request.k, swap, u)
    said = said_place(wanted)
    covered = word_coverage(match, [c.number for c in shown], wanted).tolist()
    items = tuple(
        RecommendedItem(
            snapshot.cards.card(c.number),
            float(c.score),
            c.place_match,
            c.also_in,
            p,
            tuple(w for w in snapshot.shared_words(request.preference, c.id) if not said(w))
            if c.score > 0.0
            else (),
            coverage,
        )
        for c, p, coverage in zip(shown, propensities or (None,) * len(shown), covered, strict=True)
    )
    return Decision(
        action=chosen.action,
        industry=industry,
        propensity=float(chosen.propensity),
        items=items,
        card_propensities=propensities,
        fallback=bool(ranked.fallback),
        model_version=policy.version,
        contexts=contexts,
        policy_scores=served_scores,
        own_scores=scores[0],
        avoided=tuple(sorted(avoided)),
        place=wanted,
    )
