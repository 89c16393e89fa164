"""How close each industry's cards come to the posting a seeker's words point to.

The words rarely name one posting; they make some postings likelier than others. A softmax
over the postings' match scores (temperature ``TEMPERATURE``) is that belief, and the
*expected card cosine* of an industry is the mean TF-IDF cosine of its ``CARDS`` cards to the
wanted posting, averaged over the belief. Seven match numbers say how well the cards match
the words; this one says whether they are the *kind* of posting the words point to, which the
match numbers lose (README "Training": full information 91 % → 97 % of the gap closed).
Each card's own expected cosine comes with the mean (:func:`expected_cosines`): a seeker rates
cards one by one, and the mean hides how they spread.

The belief ignores the seeker's skill on purpose: a posting's "skill" would be our own
label of its text, and restricting the belief to it copies how the simulator draws what a
seeker wants; the skill reaches the model through its own columns and embedding instead.
"""

from __future__ import annotations

import numpy as np

from vacrec.ranking.index import Match, TfidfIndex

TEMPERATURE = 0.2
"""Of the softmax over match scores relative to the best (a score is only comparable with
others of the same words): a posting scoring two fifths less than the best is e² ≈ 7 times
less likely to be the one wanted."""
CARDS = 5
"""Cards per industry, as served."""
MIN_WEIGHT = 1e-4
"""Postings less likely than this are dropped from the belief (and the rest renormalised)."""
MAX_WANTED = 100
"""At most this many likeliest postings are kept: a vague word touching thousands of postings
costs a bounded sum (the belief's mean row over ``MAX_WANTED`` rows)."""


def belief(match: Match) -> tuple[np.ndarray, np.ndarray]:
    """The postings the words may want (rows of :attr:`TfidfIndex.posting_rows`) and their
    probabilities (summing to 1); both empty when the words match nothing."""
    postings, scores = match.posting_scores()
    if not len(postings):
        return postings, np.empty(0, dtype=np.float64)
    best = float(scores.max())
    weights = np.exp((scores.astype(np.float64) / best - 1.0) / TEMPERATURE)
    weights /= weights.sum()
    keep = np.flatnonzero(weights > MIN_WEIGHT)
    if len(keep) > MAX_WANTED:
        keep = keep[np.argsort(-weights[keep], kind="stable")[:MAX_WANTED]]
    kept = weights[keep]
    return postings[keep], kept / kept.sum()


def expected_cosines(index: TfidfIndex, match: Match) -> np.ndarray:
    """Per industry (in ``index.industries`` order), the expected cosine of its cards to the
    wanted posting, in [0, 1]: float32 [n_industries, 1 + CARDS] — column 0 the mean over the
    cards it shows (the *expected card cosine*), then each card's own in card order (0 past an
    industry's size); zeros when the words match nothing.

    The simulated seeker, like a real one, rates each card, and the reward sums the ratings:
    five cards at 0.4 and one at 1.0 beside four at 0.25 share a mean and differ in reward,
    so the model gets the cards, not only their mean. They are the products the mean is
    taken of: no extra cost.

    A cosine is a dot product of unit rows, so its expectation over the belief is the dot
    product with the belief's mean row: ``Σ_w p_w (w · c) = (Σ_w p_w w) · c``. One mean row
    and one product per card replace a product per (wanted posting, card) pair: the same
    values up to float rounding (the tests pin 1e-6), in a tenth of the time (README,
    "Training" → "Its cost")."""
    out = np.zeros((len(index.industries), 1 + CARDS), dtype=np.float32)
    wanted, probability = belief(match)
    if not len(wanted):
        return out
    cards = match.card_postings(CARDS)  # [industries, CARDS], −1: no card
    shown = cards >= 0
    rows = index.posting_rows
    mean_row = rows[wanted].T @ probability  # dense [n_terms], float64
    cosines = (rows[np.maximum(cards, 0).reshape(-1)] @ mean_row).reshape(cards.shape) * shown
    out[:, 0] = cosines.sum(axis=1) / np.maximum(shown.sum(axis=1), 1)
    out[:, 1:] = cosines
    return np.clip(out, 0.0, 1.0, out=out)


def expected_card_cosine(index: TfidfIndex, match: Match) -> np.ndarray:
    """The mean column of :func:`expected_cosines`: float32 [n_industries]."""
    return expected_cosines(index, match)[:, 0]
