"""The agent's context: feature rows per (seeker, industry) against a real catalog snapshot."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.agent.agent_fixtures import (
    ART,
    ART_WORDS,
    IT,
    IT_WORDS,
    MKT,
    catalog_records,
    encoder,
    snapshot,
)
from tests.ranking.ranking_fixtures import record, small_catalog
from vacrec.agent.context import (
    CARD_COSINES,
    CARDS,
    CONTENT_FEATURES,
    EXPECTED_COSINE,
    INDUSTRY_SIZE,
    N_CONTENT,
    PLACE_MISS,
    PREFERENCE_FEATURES,
    SKILL_FEATURES,
    SKILL_TEXT_WEIGHT,
    ContextEncoder,
    content_match,
    prior_scores,
    scale_age,
)
from vacrec.agent.skills import skill_text
from vacrec.ranking.expected_cosine import CARDS as ranking_cards
from vacrec.ranking.snapshot import CatalogSnapshot

PREF = [CONTENT_FEATURES.index(f) for f in PREFERENCE_FEATURES]
SKILL = [CONTENT_FEATURES.index(f) for f in SKILL_FEATURES]


def test_feature_columns_are_preference_then_skill_then_size():
    """The network and the prior index columns by these names; the order is the contract."""
    assert CONTENT_FEATURES == (
        "preference_best",
        "preference_top",
        "preference_share",
        "skill_best",
        "skill_top",
        "skill_share",
        "industry_size",
        "expected_card_cosine",
        "place_miss",
        "card_cosine_1",
        "card_cosine_2",
        "card_cosine_3",
        "card_cosine_4",
        "card_cosine_5",
    )
    assert N_CONTENT == 14 and INDUSTRY_SIZE == 6 and EXPECTED_COSINE == 7 and PLACE_MISS == 8
    assert (CARD_COSINES.start, CARD_COSINES.stop, CARDS) == (9, 14, ranking_cards)
    assert PREF == [0, 1, 2] and SKILL == [3, 4, 5]


def test_encode_gives_one_float32_row_per_seeker_and_industry():
    snap = snapshot()
    contexts = encoder(snap).encode([30, 45], ["акварель", "геймдев"], [ART_WORDS, IT_WORDS])

    assert len(contexts) == 2
    assert contexts.content.shape == (2, len(snap.actions), N_CONTENT) == (2, 3, 14)
    assert contexts.content.dtype == np.float32
    assert contexts.ages.dtype == np.int64 and contexts.ages.tolist() == [30, 45]
    assert contexts.skills == ("акварель", "геймдев")
    assert contexts.actions == snap.actions == (IT, ART, MKT)


def test_preference_columns_are_the_match_of_the_text_and_skill_columns_of_the_skill_words():
    snap = snapshot()
    contexts = encoder(snap).encode([30, 30], ["акварель", "UI/UX-дизайн"], [IT_WORDS, ART_WORDS])

    np.testing.assert_array_equal(contexts.content[0][:, PREF], snap.match_features(IT_WORDS))
    np.testing.assert_array_equal(contexts.content[1][:, PREF], snap.match_features(ART_WORDS))
    np.testing.assert_array_equal(
        contexts.content[0][:, SKILL], snap.match_features(skill_text("акварель"))
    )
    np.testing.assert_array_equal(
        contexts.content[1][:, SKILL], snap.match_features(skill_text("UI/UX-дизайн"))
    )
    # The skill's keywords, not only its name, reach the postings: UI/UX → «Figma» → IT.
    assert contexts.content[1, snap.actions.index(IT), SKILL[0]] > 0.0


def test_a_skill_without_configured_words_is_matched_by_its_own_name():
    """An extra skill (``VACREC_EXTRA_SKILLS``) has no keywords: its name is its words."""
    snap = snapshot()
    contexts = ContextEncoder(snap, {}).encode([30], ["Python"], [""])

    np.testing.assert_array_equal(contexts.content[0][:, SKILL], snap.match_features("Python"))
    assert contexts.content[0, snap.actions.index(IT), SKILL[0]] > 0.0


def test_size_column_is_log_scaled_with_the_largest_industry_at_one():
    snap = snapshot()  # IT 4 postings, art 5, marketing 1
    sizes = dict(zip(snap.actions, snap.industry_sizes().tolist(), strict=True))
    assert sizes == {IT: 4, ART: 5, MKT: 1}

    size = encoder(snap).encode([30], ["акварель"], [""]).content[0, :, INDUSTRY_SIZE]

    by_name = dict(zip(snap.actions, size.tolist(), strict=True))
    assert by_name[ART] == 1.0
    assert by_name[IT] == pytest.approx(math.log(5) / math.log(6), rel=1e-6)
    assert by_name[MKT] == pytest.approx(math.log(2) / math.log(6), rel=1e-6)
    assert ((size >= 0.0) & (size <= 1.0)).all()


def test_empty_preference_leaves_the_preference_columns_zero():
    contexts = encoder().encode([30], ["акварель"], [""])

    assert not contexts.content[0][:, PREF].any()
    assert contexts.content[0][:, SKILL].any()  # the skill still speaks


def test_repeated_preferences_give_identical_rows():
    contexts = encoder().encode(
        [20, 60, 20], ["геймдев", "геймдев", "акварель"], [IT_WORDS, IT_WORDS, IT_WORDS]
    )

    np.testing.assert_array_equal(contexts.content[0], contexts.content[1])  # age is not content
    np.testing.assert_array_equal(contexts.content[0][:, PREF], contexts.content[2][:, PREF])


def test_encode_one_with_precomputed_features_equals_encode():
    """The service matches the text once for cards and context; both paths must agree."""
    snap = snapshot()
    enc = encoder(snap)
    full = enc.encode([33], ["иллюстрация"], [ART_WORDS])

    match = snap.match(ART_WORDS)
    precomputed = enc.encode_one(
        33, "иллюстрация", ART_WORDS, snap.features_of(match), snap.expected_cosines_of(match)
    )
    plain = enc.encode_one(33, "иллюстрация", ART_WORDS)

    for one in (precomputed, plain):
        np.testing.assert_array_equal(one.content, full.content)
        assert one.ages.tolist() == [33] and one.skills == ("иллюстрация",)
        assert one.actions == full.actions


def test_encode_refuses_columns_of_different_lengths():
    with pytest.raises(ValueError, match="same length"):
        encoder().encode([30, 40], ["акварель"], ["", ""])


def test_take_selects_seekers_in_the_given_order():
    contexts = encoder().encode(
        [20, 30, 40], ["акварель", "геймдев", "живопись"], ["", IT_WORDS, ""]
    )

    taken = contexts.take([2, 0, 2])

    assert taken.ages.tolist() == [40, 20, 40]
    assert taken.skills == ("живопись", "акварель", "живопись")
    np.testing.assert_array_equal(taken.content[1], contexts.content[0])
    assert taken.actions == contexts.actions


def test_prior_prefers_the_industry_whose_postings_match_the_words():
    snap = CatalogSnapshot.from_records(1, small_catalog())
    contexts = ContextEncoder(snap, {}).encode(
        [30, 30], ["—", "—"], ["Python разработчик", ART_WORDS]
    )

    scores = prior_scores(contexts.content)

    assert scores.shape == (2, 2)
    assert snap.actions[int(scores[0].argmax())] == IT
    assert snap.actions[int(scores[1].argmax())] == ART


def _mirror_snapshot() -> CatalogSnapshot:
    """One art and one IT posting built alike, so «гуашь» and «python» match equally well (both
    short enough to have no root term)."""
    return CatalogSnapshot.from_records(
        1,
        [
            record("s1", "Гуашь и кисти.", [ART], 1, name="Художник"),
            record("s2", "Python и Django.", [IT], 1, name="Программист"),
        ],
    )


def test_the_skill_words_count_half_as_much_as_the_preference():
    snap = _mirror_snapshot()
    art, it = snap.actions.index(ART), snap.actions.index(IT)
    enc = ContextEncoder(snap, {"код": "python", "кисть": "гуашь"})
    contexts = enc.encode([30, 30], ["код", "кисть"], ["гуашь", "python"])
    assert contexts.content[0, art, 1] == contexts.content[1, it, 1] > 0.0  # a fair mirror

    match = content_match(contexts.content)

    # Writing «гуашь» beats having a skill that stands for «python», and vice versa.
    assert match[0, art] > match[0, it] and match[1, it] > match[1, art]
    assert match[0, it] == pytest.approx(SKILL_TEXT_WEIGHT * match[0, art], rel=1e-6)
    assert match[0, art] == pytest.approx(contexts.content[0, art, 1] / (1 + SKILL_TEXT_WEIGHT))


def test_content_match_is_in_the_unit_interval_and_zero_without_words():
    enc = ContextEncoder(snapshot(), {})
    contexts = enc.encode([30, 30], ["нет такого навыка", "Python"], ["", IT_WORDS])

    match = content_match(contexts.content)

    assert not match[0].any()
    assert ((match >= 0.0) & (match <= 1.0)).all()
    assert match[1].max() > 0.0


def test_equal_matches_are_broken_towards_the_larger_industry():
    snap = snapshot()  # art is the largest group
    contexts = ContextEncoder(snap, {}).encode([30], ["нет такого навыка"], [""])

    scores = prior_scores(contexts.content)[0]

    assert snap.actions[int(scores.argmax())] == ART
    assert scores[snap.actions.index(IT)] > scores[snap.actions.index(MKT)]  # 4 postings > 1
    assert scores.max() <= 1e-3  # a tie-break only: never outweighs a real match


def test_the_size_tie_break_never_beats_a_real_match():
    snap = snapshot()  # marketing is the smallest group
    contexts = ContextEncoder(snap, {}).encode([30], ["нет такого навыка"], ["реклама бренда"])

    assert snap.actions[int(prior_scores(contexts.content)[0].argmax())] == MKT


@pytest.mark.parametrize(
    ("ages", "expected"),
    [([14, 57, 100], [0.0, 0.5, 1.0]), ([0, 13, 101, 130], [0.0, 0.0, 1.0, 1.0])],
)
def test_age_is_scaled_linearly_over_14_to_100_and_clipped(ages: list[int], expected: list[float]):
    scaled = scale_age(ages)

    assert scaled.dtype == np.float32
    assert scaled.tolist() == pytest.approx(expected)
    assert float(scale_age(35)) == pytest.approx(21 / 86)


def test_an_empty_catalog_encodes_to_no_actions():
    snap = CatalogSnapshot.empty()

    contexts = ContextEncoder(snap, {}).encode([30], ["акварель"], ["кисти"])

    assert contexts.content.shape == (1, 0, N_CONTENT)


def test_a_one_posting_catalog_has_size_one():
    snap = CatalogSnapshot.from_records(1, [catalog_records()[0]])

    size = ContextEncoder(snap, {}).encode([30], ["x"], [""]).content[0, :, INDUSTRY_SIZE]

    assert size.tolist() == [1.0]


def test_the_expected_card_cosine_column_points_to_the_industry_of_the_wanted_postings():
    """The column is the snapshot's expected card cosine of the preference, zero with no words;
    the art words make the art industry's cards the closest to what they want."""
    snap = snapshot()
    contexts = encoder(snap).encode([30, 30], ["акварель", "акварель"], [ART_WORDS, ""])

    column = contexts.content[:, :, EXPECTED_COSINE]
    np.testing.assert_array_equal(column[0], snap.expected_card_cosine(ART_WORDS))
    assert int(column[0].argmax()) == snap.actions.index(ART)
    assert not column[1].any()


def test_the_content_prior_does_not_read_the_expected_card_cosines():
    """Cold start is unchanged: the prior weighs the mean and every card's column 0."""
    contexts = encoder().encode([30], ["акварель"], [ART_WORDS])
    changed = contexts.content.copy()
    rng = np.random.default_rng(0)
    changed[:, :, EXPECTED_COSINE] = rng.random(changed.shape[:2])
    changed[:, :, CARD_COSINES] = rng.random((*changed.shape[:2], CARDS))

    np.testing.assert_array_equal(prior_scores(changed), prior_scores(contexts.content))


def test_the_card_cosine_columns_are_each_shown_card_in_order_and_average_to_the_mean():
    """Five columns, one per card as the industry would show them (the best match first);
    their mean over the cards an industry has is the expected card cosine column."""
    snap = snapshot()
    content = encoder(snap).encode([30, 30], ["акварель", "акварель"], [ART_WORDS, ""]).content
    cards = content[0, :, CARD_COSINES]
    sizes = snap.industry_sizes()

    assert cards.shape == (len(snap.actions), CARDS)
    np.testing.assert_array_equal(cards, snap.expected_cosines(ART_WORDS)[:, 1:])
    shown = np.minimum(sizes, CARDS)
    np.testing.assert_allclose(cards.sum(axis=1) / shown, content[0, :, EXPECTED_COSINE], atol=1e-6)
    art = snap.actions.index(ART)
    assert cards[art, 0] == cards[art].max() > cards[art, shown[art] - 1]  # they spread
    assert not cards[sizes < CARDS, -1].any()  # no fifth card: 0
    assert not content[1, :, CARD_COSINES].any()  # no words


def test_two_industries_with_the_same_mean_differ_in_their_cards():
    """One card that is what the words want and one unrelated (A), against two cards that
    each share half of it (B): every posting holds two of four equally rare made-up words
    (no glossary expands them) under the same title, so the mean cosine of A's and of B's
    cards to any posting is the same — and the card columns still tell them apart, as a
    seeker's ratings of the cards would."""
    a, b = "Отрасль A", "Отрасль B"
    w = ("зорбо", "квинта", "флакс", "трюмо")
    records = [
        record("p", f"{w[0]} {w[1]}", [a], 1, "Мастер"),
        record("q", f"{w[2]} {w[3]}", [a], 2, "Мастер"),
        record("r", f"{w[0]} {w[2]}", [b], 3, "Мастер"),
        record("s", f"{w[1]} {w[3]}", [b], 4, "Мастер"),
    ]
    snap = CatalogSnapshot.from_records(1, records)
    content = ContextEncoder(snap, {}).encode([30], ["x"], [f"{w[0]} {w[1]}"]).content[0]
    row_a, row_b = content[snap.actions.index(a)], content[snap.actions.index(b)]

    assert row_a[EXPECTED_COSINE] == pytest.approx(row_b[EXPECTED_COSINE], abs=1e-6)
    card_a, card_b = row_a[CARD_COSINES], row_b[CARD_COSINES]
    assert card_a[0] - card_a[1] > 0.1 > 0.01 > abs(card_b[0] - card_b[1])  # one close, one far
    assert card_a.max() > card_b.max() + 0.05
    assert not card_a[2:].any() and not card_b[2:].any()  # two postings each: two cards
