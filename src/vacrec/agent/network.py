"""The Q-network: one scorer shared by every (seeker, industry) feature row.

    Q(s, a) = w · content(s, a)
              + gate(s) · MLP(age, skill embedding, industry embedding, content(s, a),
                              Σ_cards (φ(card cosine) − φ(0)))
    gate(s) = sigmoid(GATE_BIAS − c · how strongly the seeker's words match anything)

The linear term starts as the content prior (``PRIOR_SCALE`` × the prior's
weights), so an untrained network ranks industries as the prior does, and
training moves it only as far as the rewards say. The MLP learns what content
cannot say — which industries a skill and an age band actually like, and how
content and taste combine.

What the seeker wrote can only be learned from logs where people wrote
something: its columns enter the MLP through weights that start at zero, and
the linear weights and the gate's slope ``c`` start at the prior's values. In
a log where nobody typed anything those inputs are zero, so their gradients
are zero and they stay exactly where they started: the taste such a log
teaches fades when a seeker's words are specific, and the model still serves
them from their words. A log of typed requests whose ratings disagree with the
words moves ``w``, ``c`` and those weights until the learned part wins where
it should (``c`` learns faster than the rest: see ``TrainConfig``).

Embedding row 0 is "unknown": an industry or skill the model never saw
(training hides identities now and then so that row learns the average).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from vacrec.agent.context import (
    CARD_COSINES,
    CONTENT_FEATURES,
    INDUSTRY_SIZE,
    LEARNED_ONLY_FEATURES,
    N_CONTENT,
    PREFERENCE_TOP,
    SIZE_TIE_BREAK,
    SKILL_TEXT_WEIGHT,
    SKILL_TOP,
)

DEFAULT_HIDDEN: tuple[int, ...] = (64, 32)
DEFAULT_EMBEDDING = 8
PRIOR_SCALE = 4.0
"""Reward per unit of content match the linear term starts from: cards matching the words
0.3 better turn about one more of five votes from −1 to +1 (tanh rewards span 2)."""
GATE_BIAS = 4.0
"""With no words at all the learned part counts fully (sigmoid(4) ≈ 0.98)..."""
GATE_SLOPE = 20.0
"""...and it fades as the words match: half at a match of 0.2 (a typical job title), a tenth
at 0.3, until feedback on typed requests says otherwise."""
CARD_WIDTH = 8
"""Hidden units of the per-card sub-network."""
LEARNED_COLUMNS = tuple(CONTENT_FEATURES.index(f) for f in LEARNED_ONLY_FEATURES)
"""The content columns only feedback gives a meaning (zero-initialised MLP inputs)."""


def prior_weights(scale: float = PRIOR_SCALE, n_content: int = N_CONTENT) -> np.ndarray:
    """The linear weights that reproduce ``scale`` × :func:`vacrec.agent.context.prior_scores`
    (columns past the prior's own start at zero)."""
    w = np.zeros(n_content, dtype=np.float32)
    w[PREFERENCE_TOP] = 1.0 / (1.0 + SKILL_TEXT_WEIGHT)
    w[SKILL_TOP] = SKILL_TEXT_WEIGHT / (1.0 + SKILL_TEXT_WEIGHT)
    w[INDUSTRY_SIZE] = SIZE_TIE_BREAK
    return w * scale


class ContextualQNetwork(nn.Module):
    """Scores feature rows; see the module docstring for the form.

    The MLP's first layer is split by input (the seeker's part, the industry's,
    the content's) and summed: the same maths as one layer over the concatenated
    row, without materialising a [batch, actions, width] input.
    """

    gate_bias: torch.Tensor  # a buffer (saved with the weights, not trained)

    def __init__(
        self,
        n_skills: int,
        n_industries: int,
        hidden: Sequence[int] = DEFAULT_HIDDEN,
        embedding_dim: int = DEFAULT_EMBEDDING,
        prior_scale: float = PRIOR_SCALE,
        n_content: int = N_CONTENT,
    ) -> None:
        super().__init__()
        if n_skills < 0 or n_industries < 0 or embedding_dim < 1 or not hidden:
            raise ValueError("vocabulary sizes must be >= 0, embedding and hidden sizes positive")
        if n_content < N_CONTENT:
            raise ValueError(f"the content row has at least {N_CONTENT} columns, got {n_content}")
        if any(h < 1 for h in hidden):
            raise ValueError("vocabulary sizes must be >= 0, embedding and hidden sizes positive")
        self.n_skills = int(n_skills)
        self.n_industries = int(n_industries)
        self.hidden = tuple(int(h) for h in hidden)
        self.embedding_dim = int(embedding_dim)
        self.n_content = int(n_content)
        self.skill_embedding = nn.Embedding(self.n_skills + 1, self.embedding_dim)
        self.industry_embedding = nn.Embedding(self.n_industries + 1, self.embedding_dim)
        self.content_weights = nn.Parameter(
            torch.from_numpy(prior_weights(prior_scale, self.n_content))
        )
        self.gate_slope = nn.Parameter(torch.tensor(GATE_SLOPE))
        self.register_buffer("gate_bias", torch.tensor(GATE_BIAS))
        # Rated events per (skill, industry) the network was trained on (row/column 0:
        # unknown): how sure it can be of each pair, which exploration spends on.
        self.visits: torch.Tensor
        self.register_buffer("visits", torch.zeros(self.n_skills + 1, self.n_industries + 1))

        first = self.hidden[0]
        self.seeker_layer = nn.Linear(1 + self.embedding_dim, first)  # age, skill (+ bias)
        self.industry_layer = nn.Linear(self.embedding_dim, first, bias=False)
        self.content_layer = nn.Linear(self.n_content, first, bias=False)
        # Each card's cosine through one small network, summed over the cards, as the
        # reward sums the seeker's ratings of them: a card's worth is a curve of its own
        # closeness (a close card is likely liked, a far one not), which a sum over the
        # five columns' linear weights cannot bend.
        self.card_layer = nn.Sequential(
            nn.Linear(1, CARD_WIDTH), nn.ReLU(), nn.Linear(CARD_WIDTH, first, bias=False)
        )
        with torch.no_grad():
            self.content_layer.weight[:, list(LEARNED_COLUMNS)] = 0.0
            self.content_layer.weight[:, N_CONTENT:] = 0.0  # learnt only where logs fill them
            last = self.card_layer[-1]
            assert isinstance(last, nn.Linear)
            last.weight.zero_()  # learned only from typed requests, as the columns above
        layers: list[nn.Module] = [nn.ReLU()]
        width = first
        for h in self.hidden[1:]:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, 1))
        self.head = nn.Sequential(*layers)

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False
    ) -> Any:
        """As nn.Module's; weights saved before visits were counted load as never visited."""
        state = {"visits": torch.zeros_like(self.visits), **state_dict}
        return super().load_state_dict(state, strict=strict, assign=assign)

    @staticmethod
    def match_strength(content: torch.Tensor) -> torch.Tensor:
        """How strongly the seeker's words match any industry [B, 1] (what the gate reads)."""
        return content[:, :, PREFERENCE_TOP].amax(dim=1, keepdim=True)

    def card_values(self, cosines: torch.Tensor) -> torch.Tensor:
        """[B, A, CARDS] card cosines → [B, A, hidden]: the per-card sub-network summed over the
        cards, less its value at 0, so a request without words (every cosine 0) reads nothing
        from it and teaches it nothing."""
        values: torch.Tensor = self.card_layer(
            torch.cat([cosines, torch.zeros_like(cosines[..., :1])], -1)[..., None]
        )
        return values[..., :-1, :].sum(dim=-2) - values[..., -1, :] * cosines.shape[-1]

    def forward(
        self,
        ages: torch.Tensor,  # float [B], scaled to [0, 1]
        skills: torch.Tensor,  # long [B], 0 = unknown
        industries: torch.Tensor,  # long [B, A] or [A], 0 = unknown
        content: torch.Tensor,  # float [B, A, n_content]
        strength: torch.Tensor | None = None,  # float [B, 1]: see match_strength
    ) -> torch.Tensor:
        """Q-values [B, A]. ``A`` may be a subset of the catalog's industries (training scores
        only the one taken) when ``strength`` — :meth:`match_strength` of every industry's
        rows — is given: the gate depends on all of them."""
        seeker = self.seeker_layer(torch.cat([ages[:, None], self.skill_embedding(skills)], 1))
        industry = self.industry_layer(self.industry_embedding(industries))  # [A or B×A, H]
        if industry.dim() == 2:
            industry = industry.unsqueeze(0)
        cards = self.card_values(content[:, :, CARD_COSINES])
        hidden = seeker[:, None, :] + industry + self.content_layer(content) + cards
        learned = self.head(hidden).squeeze(2)
        if strength is None:
            strength = self.match_strength(content)
        gate = torch.sigmoid(self.gate_bias - self.gate_slope * strength)
        q: torch.Tensor = content @ self.content_weights + gate * learned
        return q
