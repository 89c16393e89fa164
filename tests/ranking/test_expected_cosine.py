"""The expected card cosine: how close each industry's cards come to the posting the words want."""

from __future__ import annotations

import numpy as np
import pytest

from tests.ranking.ranking_fixtures import ART, IT, record, small_catalog
from vacrec.ranking.expected_cosine import (
    CARDS,
    MAX_WANTED,
    belief,
    expected_card_cosine,
    expected_cosines,
)
from vacrec.ranking.snapshot import CatalogSnapshot

WATER = "Акварель"
CODE = "Программист"
BOTH = "Смешанное"


def _three_industries() -> CatalogSnapshot:
    """Only «w1» says «акварель»; it is in WATER and BOTH, which also holds an unrelated
    posting; CODE shares no word with it."""
    return CatalogSnapshot.from_records(
        1,
        [
            record("w1", "акварель пейзаж", [WATER, BOTH], 1, name="акварель"),
            record("c1", "python бэкенд", [CODE], 2, name="python"),
            record("b1", "бухгалтер отчётность", [BOTH], 3, name="бухгалтер"),
        ],
    )


def test_one_wanted_posting_gives_each_industry_the_mean_cosine_of_its_cards_to_it():
    """The words hit one posting, so the belief is certain: its own industry's only card is it
    (cosine 1), the industry with nothing like it scores 0, the mixed one half of 1 + 0."""
    snap = _three_industries()
    found = snap.expected_card_cosine("акварель")

    by_action = dict(zip(snap.actions, found.tolist(), strict=True))
    assert by_action[WATER] == pytest.approx(1.0, abs=1e-5)
    assert by_action[CODE] == pytest.approx(0.0, abs=1e-6)
    assert by_action[BOTH] == pytest.approx(0.5, abs=1e-5)
    assert found.dtype == np.float32


def test_the_industry_holding_postings_most_like_the_words_scores_highest():
    snap = CatalogSnapshot.from_records(1, small_catalog())
    art = snap.actions.index(ART)
    it = snap.actions.index(IT)

    painting = snap.expected_card_cosine("акварель гуашь детские книги")
    coding = snap.expected_card_cosine("Python бэкенд PostgreSQL")

    assert painting[art] > painting[it]
    assert coding[it] > coding[art]
    for found in (painting, coding):
        assert ((found >= 0.0) & (found <= 1.0)).all()


def test_words_matching_nothing_give_zeros():
    snap = _three_industries()
    for words in ("", "   ", "квантовая хромодинамика"):
        assert not snap.expected_card_cosine(words).any()


def test_the_belief_is_a_softmax_of_the_match_scores_summing_to_one():
    snap = CatalogSnapshot.from_records(1, small_catalog())
    match = snap.match("художник акварель Python")
    wanted, probability = belief(match)
    postings, scores = match.posting_scores()

    assert probability.sum() == pytest.approx(1.0)
    assert set(wanted.tolist()) <= set(postings.tolist())
    # The best-matching posting is the likeliest one wanted.
    assert wanted[int(probability.argmax())] == postings[int(scores.argmax())]


def test_cards_are_the_ones_top_k_shows():
    """The column is about the cards served: the same postings, padded the same way."""
    snap = CatalogSnapshot.from_records(1, small_catalog())
    index = snap.index
    match = snap.match("художник Python")
    cards = match.card_postings(CARDS)
    ids = index.ids
    number_of = {str(v): n for n, v in enumerate(ids)}
    rows = index.posting_rows
    for i, industry in enumerate(index.industries):
        shown = [vid for vid, _ in match.top_k(industry, CARDS).items]
        got = [p for p in cards[i].tolist() if p >= 0]
        assert len(got) == len(shown) == min(CARDS, index.size(industry))
        # Same postings: their rows equal the public matrix's rows of the shown ids.
        expected = index.matrix[[number_of[v] for v in shown]].toarray()
        np.testing.assert_allclose(rows[got].toarray(), expected)


def test_an_industry_with_no_postings_scores_zero():
    snap = CatalogSnapshot.from_records(1, small_catalog(), actions=(ART, IT, "Пустая отрасль"))
    found = expected_card_cosine(snap.index, snap.match("акварель"))
    assert len(found) == len(snap.index.industries)
    assert snap.expected_card_cosine("акварель")[2] == 0.0


def _by_definition(snap: CatalogSnapshot, text: str) -> np.ndarray:
    """The column as defined: every (wanted posting, card) cosine, each industry's mean over
    its cards, weighted by the belief — in float64, one pair at a time."""
    match = snap.match(text)
    wanted, probability = belief(match)
    rows = snap.index.posting_rows.toarray().astype(np.float64)
    out = np.zeros(len(snap.index.industries))
    for i, cards in enumerate(match.card_postings(CARDS)):
        shown = cards[cards >= 0]
        if len(wanted) and len(shown):
            out[i] = probability @ (rows[wanted] @ rows[shown].T).mean(axis=1)
    return out


def _many_postings() -> CatalogSnapshot:
    """600 postings of a few shared words each over six industries (some postings in two), so
    a word touches hundreds of postings and the belief is cut at ``MAX_WANTED``."""
    rng = np.random.default_rng(7)
    words = [
        "художник",
        "акварель",
        "дизайн",
        "python",
        "маркетинг",
        "реклама",
        "анимация",
        "интерьер",
        "витрина",
        "figma",
        "театр",
        "роспись",
        "логотип",
        "игры",
        "обучение",
    ]
    groups = [f"Отрасль {g}" for g in range(6)]
    records = []
    for n in range(600):
        text = " ".join(rng.choice(words, size=int(rng.integers(2, 7))))
        industries = list(rng.choice(groups, size=int(rng.integers(1, 3)), replace=False))
        records.append(
            record(f"p{n}", text, industries, float(n % 50), name=str(rng.choice(words)))
        )
    return CatalogSnapshot.from_records(1, records)


def test_the_column_equals_its_definition_within_a_millionth():
    """Computed through the belief's mean row (one product per card), the column is the
    pairwise definition up to float rounding: 1e-6 is the tolerance the agent's context keeps
    (ENCODING_VERSION unchanged)."""
    snap = _many_postings()
    for text in ("художник акварель", "дизайн figma логотип", "реклама", "игры python обучение"):
        match = snap.match(text)
        assert len(match.posting_scores()[0]) > MAX_WANTED  # the cut is exercised
        found = expected_card_cosine(snap.index, match)
        np.testing.assert_allclose(found, _by_definition(snap, text), rtol=0, atol=1e-6)
        assert found.any()


def test_each_cards_column_is_its_own_expected_cosine_in_card_order():
    """Column 1 + j is card j's cosine to the wanted posting averaged over the belief (the
    pairwise definition, one card at a time); 0 past an industry's cards; column 0 is the
    mean column, unchanged."""
    snap = _many_postings()
    for text in ("художник акварель", "реклама"):
        match = snap.match(text)
        wanted, probability = belief(match)
        rows = snap.index.posting_rows.toarray().astype(np.float64)
        found = expected_cosines(snap.index, match)
        assert found.shape == (len(snap.index.industries), 1 + CARDS)
        for i, cards in enumerate(match.card_postings(CARDS)):
            for j, card in enumerate(cards):
                want = probability @ (rows[wanted] @ rows[card]) if card >= 0 else 0.0
                assert found[i, 1 + j] == pytest.approx(want, abs=1e-6)
        np.testing.assert_array_equal(found[:, 0], expected_card_cosine(snap.index, match))
        assert (found[:, 1:].max(axis=1) - found[:, 1:].min(axis=1)).max() > 0.02  # they spread
