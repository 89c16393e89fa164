"""Serving policies: the content prior and trained Q-models, and ε-greedy choice among them.

Both policies score :class:`~vacrec.agent.context.Contexts` (every industry's
feature row for each seeker) and are interchangeable where a policy is
served, evaluated or compared. Every served action carries the probability
with which it was chosen, so the logs support unbiased off-policy evaluation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch

from vacrec.agent.context import (
    ENCODING_VERSION,
    PREFERENCE_TOP,
    Contexts,
    content_match,
    prior_scores,
    scale_age,
)
from vacrec.agent.network import ContextualQNetwork
from vacrec.domain import skill_key


class Policy(Protocol):
    """Anything that scores every action of every seeker."""

    version: int | None
    """Registry version; None for the content prior."""

    def q_values(self, contexts: Contexts) -> np.ndarray:
        """Scores [n, n_actions]; higher is better."""
        ...

    def uncertainty(self, contexts: Contexts) -> np.ndarray:
        """How unsure the policy is of each score [n, n_actions], in (0, 1]: 1 = never
        rated, falling as ratings of that (skill, industry) accumulate."""
        ...


class ContentPrior:
    """The policy before any feedback: the industry whose postings best match the seeker."""

    version: int | None = None

    def q_values(self, contexts: Contexts) -> np.ndarray:
        return prior_scores(contexts.content).astype(np.float64)

    def uncertainty(self, contexts: Contexts) -> np.ndarray:
        return np.ones((len(contexts), len(contexts.actions)))


CONTENT_PRIOR = ContentPrior()


class QModel:
    """A trained network with the skills and industries it has embeddings for.

    Anything else (a skill added by configuration, a group a later catalog
    introduced) maps to the "unknown" embedding and is scored from its content.
    """

    def __init__(
        self,
        network: ContextualQNetwork,
        skills: Sequence[str],
        industries: Sequence[str],
        version: int | None = 0,
        encoding_version: int = ENCODING_VERSION,
    ) -> None:
        if network.n_skills != len(skills) or network.n_industries != len(industries):
            raise ValueError(
                f"network knows {network.n_skills} skills and {network.n_industries} industries, "
                f"given {len(skills)} and {len(industries)}"
            )
        self.network = network.eval()
        self.skills = tuple(skills)
        self.industries = tuple(industries)
        self.version = version
        self.encoding_version = encoding_version
        self._skill_id = {skill_key(s): i + 1 for i, s in enumerate(self.skills)}
        self._industry_id = {name: i + 1 for i, name in enumerate(self.industries)}
        self._last_actions: tuple[tuple[str, ...], torch.Tensor] | None = None

    def skill_ids(self, skills: Sequence[str]) -> np.ndarray:
        """Embedding rows of ``skills`` (0 = unknown to this model)."""
        return np.fromiter(
            (self._skill_id.get(skill_key(s), 0) for s in skills), dtype=np.int64, count=len(skills)
        )

    def industry_ids(self, actions: Sequence[str]) -> np.ndarray:
        """Embedding rows of the catalog's ``actions`` (0 = unknown to this model)."""
        return np.fromiter(
            (self._industry_id.get(a, 0) for a in actions), dtype=np.int64, count=len(actions)
        )

    def _industry_tensor(self, actions: tuple[str, ...]) -> torch.Tensor:
        cached = self._last_actions  # one catalog at a time: a one-entry cache is enough
        if cached is not None and cached[0] == actions:
            return cached[1]
        ids = torch.from_numpy(self.industry_ids(actions))
        self._last_actions = (actions, ids)
        return ids

    def q_values(self, contexts: Contexts) -> np.ndarray:
        """Q-values [n, n_actions] for the seekers in ``contexts``."""
        with torch.no_grad():
            q = self.network(
                torch.from_numpy(scale_age(contexts.ages)),
                torch.from_numpy(self.skill_ids(contexts.skills)),
                self._industry_tensor(contexts.actions),
                torch.from_numpy(contexts.content),
            )
        q_values: np.ndarray = q.numpy().astype(np.float64)
        return q_values

    def uncertainty(self, contexts: Contexts) -> np.ndarray:
        """1 / sqrt(1 + rated events of the seeker's skill in each industry), from the
        training log (an unknown skill or industry: never rated)."""
        skills = self.skill_ids(contexts.skills)
        industries = self._industry_tensor(contexts.actions).numpy()
        visits = self.network.visits.numpy()[np.ix_(skills, industries)]
        unsure: np.ndarray = 1.0 / np.sqrt(1.0 + visits)
        return unsure


def greedy(policy: Policy, contexts: Contexts) -> np.ndarray:
    """The greedy action of every seeker."""
    actions: np.ndarray = policy.q_values(contexts).argmax(axis=1)
    return actions


@dataclass(frozen=True)
class Decision:
    """The served action, the probability it had, and the greedy action it came from."""

    action: int
    propensity: float
    greedy: int | None
    q_values: np.ndarray | None


ANY_INDUSTRY_SHARE = 0.3
"""Of the explored requests, at most this share may go to any industry; the rest go to the
industries related to the seeker's words (:func:`related_industries`). The share is spent
where the policy is unsure: it is this much while nothing is known of the seeker's skill in
the unrelated industries, and shrinks as they are rated; within it, each industry is drawn in
proportion to how unsure the policy is of it. So an industry the words do not point to is
tried while nobody knows whether it suits, and stops being tried once it is known. At the
default ε = 0.1 a seeker who said what they want gets an unrelated page on at most
ε × this share = 3 % of requests."""
RELATED_SHARE = 0.5
"""An industry is related to the seeker's words when its content match is at least this
share of the best industry's. Sharing a word is too weak a test: in a real catalog nearly every
industry has some posting that shares a word with any title (a children's-book illustrator's
words reach sales at a twentieth of the best match)."""


def related_to_words(content: np.ndarray) -> np.ndarray:
    """:func:`related_industries` of one seeker's context rows [A, N_CONTENT]; none when
    their words match nothing (or they typed none). The skill's own words alone would send
    most exploration to the industries the prior already serves them, and what such seekers
    prefer would be learned only from the rest."""
    if not content[:, PREFERENCE_TOP].any():
        return np.zeros(content.shape[0], dtype=bool)
    return related_industries(content_match(content))


def related_industries(match: np.ndarray) -> np.ndarray:
    """Which industries exploration favours, given each one's content match [A] (see
    :func:`vacrec.agent.context.content_match`): bool [A]; none when nothing matches."""
    match = np.asarray(match, dtype=np.float64)
    best = float(match.max()) if match.size else 0.0
    if best <= 0.0:
        return np.zeros(match.shape, dtype=bool)
    return match >= RELATED_SHARE * best


def epsilon_greedy(
    q_values: np.ndarray | None,
    n_actions: int,
    epsilon: float,
    rng: np.random.Generator,
    explore: bool = True,
    related: np.ndarray | None = None,
    unsure: np.ndarray | None = None,
    temperature: float = 0.0,
    allowed: np.ndarray | None = None,
) -> Decision:
    """Greedy with probability 1 − ε, else explore (:func:`exploration_probabilities`:
    mostly among the ``related`` actions, the rest where the policy is ``unsure``; with
    ``temperature`` > 0, optimistically around ``q_values``). ``explore=False`` → greedy with
    propensity 1; no scores → exploration only. ``allowed`` (bool [A]): only these are served
    (greedy is the best of them, exploration draws among them); ignored when none is. The
    propensity logged is the action's exact probability."""
    if n_actions < 1:
        raise ValueError("there are no actions to choose from")
    if not 0.0 <= epsilon <= 1.0:
        raise ValueError("epsilon must be in [0, 1]")
    scores = None if q_values is None or temperature <= 0 else np.asarray(q_values, np.float64)
    explored = exploration_probabilities(n_actions, related, unsure, scores, temperature)
    allowed = None if allowed is None or not np.any(allowed) else np.asarray(allowed, dtype=bool)
    if allowed is not None:
        if allowed.shape != (n_actions,):
            raise ValueError(f"allowed has shape {allowed.shape}, expected ({n_actions},)")
        explored = np.where(allowed, explored, 0.0)
        explored = explored / explored.sum()
    if q_values is None:
        action = int(rng.choice(n_actions, p=explored))
        return Decision(action, float(explored[action]), None, None)
    q = np.asarray(q_values, dtype=np.float64)
    if q.shape != (n_actions,):
        raise ValueError(f"q_values has shape {q.shape}, expected ({n_actions},)")
    greedy = int(np.argmax(q if allowed is None else np.where(allowed, q, -np.inf)))
    if not explore:
        return Decision(greedy, 1.0, greedy, q)
    action = int(rng.choice(n_actions, p=explored)) if rng.random() < epsilon else greedy
    propensity = epsilon * explored[action] + (1.0 - epsilon if action == greedy else 0.0)
    return Decision(action, float(propensity), greedy, q)


def exploration_probabilities(
    n_actions: int,
    related: np.ndarray | None = None,
    unsure: np.ndarray | None = None,
    scores: np.ndarray | None = None,
    temperature: float = 0.0,
) -> np.ndarray:
    """How an explored request spreads over the actions (see ``ANY_INDUSTRY_SHARE``).

    ``related``: bool [A], the industries the seeker's words point to; ``unsure``: [A] in
    (0, 1], the policy's :meth:`Policy.uncertainty` (None: unsure of everything). With a
    trained model's ``scores`` and ``temperature`` > 0, all but ``OPTIMISTIC_FLOOR`` of it
    follows :func:`optimistic_probabilities` instead: exploration goes where the model is
    unsure or nearly sure it is good.
    """
    if scores is not None and temperature > 0:
        base = exploration_probabilities(n_actions, related, unsure)
        doubt = np.ones(n_actions) if unsure is None else np.asarray(unsure, dtype=np.float64)
        if np.shape(scores) != (n_actions,):
            raise ValueError(f"scores has shape {np.shape(scores)}, expected ({n_actions},)")
        optimistic = optimistic_probabilities(scores, doubt, temperature)
        mixed_in: np.ndarray = (1.0 - OPTIMISTIC_FLOOR) * optimistic + OPTIMISTIC_FLOOR * base
        return mixed_in
    doubt = np.ones(n_actions) if unsure is None else np.asarray(unsure, dtype=np.float64)
    if doubt.shape != (n_actions,):
        raise ValueError(f"unsure has shape {doubt.shape}, expected ({n_actions},)")
    anywhere: np.ndarray = doubt / doubt.sum()
    if related is None:
        return anywhere
    mask = np.asarray(related, dtype=bool)
    if mask.shape != (n_actions,):
        raise ValueError(f"related has shape {mask.shape}, expected ({n_actions},)")
    if not mask.any() or mask.all():
        return anywhere
    share = ANY_INDUSTRY_SHARE * float(doubt[~mask].mean())
    mixed: np.ndarray = (1.0 - share) * mask / mask.sum() + share * anywhere
    return mixed


OPTIMISM = 0.5
"""Reward added to a score per unit of doubt (:meth:`Policy.uncertainty`, 1 = never rated):
an industry nobody rated for this skill is explored as if it were this much better than the
model thinks, until ratings say what it is worth."""
OPTIMISTIC_FLOOR = 0.2
"""With optimistic exploration, this share of an explored request still spreads as the
related-first mix does (:func:`exploration_probabilities` without scores): no industry's
propensity falls to zero, so off-policy estimates stay bounded."""


def optimistic_probabilities(
    scores: np.ndarray, unsure: np.ndarray, temperature: float, optimism: float = OPTIMISM
) -> np.ndarray:
    """Softmax of (score + ``optimism`` × doubt) / ``temperature`` over the actions [A].

    Exploration that spends where a better choice may hide: an industry the model scores
    near the best, or one it knows little about, is tried often; one it knows is bad, seldom.
    """
    if temperature <= 0:
        raise ValueError("temperature must be > 0")
    z = (np.asarray(scores, dtype=np.float64) + optimism * np.asarray(unsure)) / temperature
    weights = np.exp(z - z.max())
    probabilities: np.ndarray = weights / weights.sum()
    return probabilities


def policy_matrix(chosen: np.ndarray, n_actions: int, epsilon: float = 0.0) -> np.ndarray:
    """Action probabilities [n, n_actions] of ε-greedy around ``chosen`` (ε = 0: deterministic)."""
    chosen = np.asarray(chosen, dtype=np.int64)
    probs = np.full((chosen.shape[0], n_actions), epsilon / n_actions)
    probs[np.arange(chosen.shape[0]), chosen] += 1.0 - epsilon
    return probs
