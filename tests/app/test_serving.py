"""The serving decision on a real snapshot, without a store: what the service and the
benchmarks both serve through."""

from __future__ import annotations

import dataclasses
from contextlib import nullcontext

import numpy as np
import pytest

from tests.ranking.ranking_fixtures import ART, IT, record, small_catalog
from vacrec.agent.context import (
    CARD_COSINES,
    EXPECTED_COSINE,
    N_CONTENT,
    PLACE_MISS,
    ContextEncoder,
)
from vacrec.agent.network import ContextualQNetwork
from vacrec.agent.policy import QModel
from vacrec.agent.skills import skill_texts
from vacrec.app.recommender import industry_scores
from vacrec.app.serving import (
    SESSION_MIN_VOTES,
    SeekerRequest,
    SharedGenerator,
    decide,
)
from vacrec.domain import SkillVocabulary
from vacrec.ranking.index import MATCH_THRESHOLD
from vacrec.ranking.place import UnknownArea
from vacrec.ranking.snapshot import CatalogSnapshot
from vacrec.store.events import SessionHistory

SKILL = SkillVocabulary().skills[0]
WATERCOLOUR = "акварель и гуашь для детских книг"


@pytest.fixture(scope="module")
def snapshot() -> CatalogSnapshot:
    return CatalogSnapshot.from_records(1, small_catalog())


@pytest.fixture(scope="module")
def encoder(snapshot: CatalogSnapshot) -> ContextEncoder:
    return ContextEncoder(snapshot, skill_texts(SkillVocabulary().skills))


def _generator(seed: int = 0) -> nullcontext[np.random.Generator]:
    return nullcontext(np.random.default_rng(seed))


def test_greedy_serves_the_industry_and_card_the_words_match(snapshot, encoder):
    request = SeekerRequest(30, SKILL, WATERCOLOUR, k=3, explore=False)
    decision = decide(snapshot, encoder, None, request, _generator(), epsilon=0.5)
    assert decision.industry == ART
    assert decision.action == snapshot.actions.index(ART)
    assert decision.propensity == 1.0  # greedy: the action was certain
    assert decision.items[0].id == "a1"
    assert decision.items[0].matched
    assert decision.card_propensities is None
    assert decision.model_version is None  # no model given: the content prior scored


def test_greedy_draws_nothing_and_exploring_replays_from_the_seed(snapshot, encoder):
    rng = np.random.default_rng(5)
    greedy = SeekerRequest(30, SKILL, WATERCOLOUR, explore=False)
    decide(snapshot, encoder, None, greedy, nullcontext(rng), epsilon=1.0, card_swap=0.5)
    assert rng.random() == np.random.default_rng(5).random()  # the stream is untouched

    exploring = SeekerRequest(30, SKILL, WATERCOLOUR, k=3)
    first, again = (
        decide(snapshot, encoder, None, exploring, _generator(7), epsilon=1.0, card_swap=0.5)
        for _ in range(2)
    )
    assert (first.action, first.propensity) == (again.action, again.propensity)
    assert [i.id for i in first.items] == [i.id for i in again.items]
    assert 0.0 < first.propensity < 1.0  # ε = 1: every industry could have been drawn
    assert first.card_propensities is not None
    assert len(first.card_propensities) == len(first.items)


def test_a_session_never_sees_a_rejected_card_and_serves_a_rejected_industry_last(
    snapshot, encoder
):
    request = SeekerRequest(30, SKILL, WATERCOLOUR, explore=False)
    one_down = SessionHistory(rejected=frozenset({"a1"}), votes_by_industry={ART: (1, 1)})
    decision = decide(snapshot, encoder, None, request, _generator(), epsilon=0.0, history=one_down)
    assert decision.industry == ART  # one vote is not enough to give up on the industry
    assert "a1" not in [i.id for i in decision.items]
    assert decision.avoided == ()

    mostly_down = SessionHistory(votes_by_industry={ART: (SESSION_MIN_VOTES, SESSION_MIN_VOTES)})
    decision = decide(
        snapshot, encoder, None, request, _generator(), epsilon=0.0, history=mostly_down
    )
    assert decision.avoided == (ART,)
    assert decision.industry != ART


def test_exploring_does_not_favour_an_industry_the_session_turned_down(snapshot, encoder):
    request = SeekerRequest(30, SKILL, WATERCOLOUR)
    mostly_down = SessionHistory(votes_by_industry={ART: (SESSION_MIN_VOTES, SESSION_MIN_VOTES)})
    rng = _generator(3)

    def art(history: SessionHistory) -> tuple[float, float]:
        """How often ART is served at ε = 1, and its logged propensity."""
        served = [
            decide(snapshot, encoder, None, request, rng, epsilon=1.0, history=history)
            for _ in range(400)
        ]
        on_art = [d.propensity for d in served if d.industry == ART]
        return len(on_art) / len(served), on_art[0]

    fresh_share, fresh_p = art(SessionHistory())
    turned_share, turned_p = art(mostly_down)
    assert fresh_p > 0.7  # the words point to art: exploration favours it
    assert turned_p <= 1 / len(snapshot.actions) + 1e-9  # no more than any other industry
    assert abs(fresh_share - fresh_p) < 0.07 and abs(turned_share - turned_p) < 0.07  # exact


def test_an_area_the_catalog_lacks_is_refused(snapshot, encoder):
    request = SeekerRequest(30, SKILL, WATERCOLOUR, area="Атлантида")
    with pytest.raises(UnknownArea):
        decide(snapshot, encoder, None, request, _generator(), epsilon=0.0)


def test_a_shared_generator_is_one_seeded_stream():
    shared = SharedGenerator(3)
    with shared as rng:
        first = rng.random()
    with shared as rng:
        second = rng.random()
    expected = np.random.default_rng(3)
    assert (first, second) == (expected.random(), expected.random())


@pytest.mark.parametrize("words", ["акварель и гуашь в Москве", "витрины, удалённо"])
def test_a_model_is_served_the_context_training_encodes_from_the_logged_words(words):
    # Training encodes the logged words again; serving matches them without the place they
    # name. Both must read the same topic, or a model learns on contexts it is never served.
    # Here the place words are in postings too (an address, a remote IT job).
    records = [
        *small_catalog(),
        dataclasses.replace(
            record("m1", "Офис в Москве, ул. Тверская. Работа удалённо возможна.", [IT], 2),
            area="Москва",
        ),
    ]
    snapshot = CatalogSnapshot.from_records(1, records)
    encoder = ContextEncoder(snapshot, skill_texts(SkillVocabulary().skills))
    skills = SkillVocabulary().skills
    model = QModel(ContextualQNetwork(len(skills), len(snapshot.actions)), skills, snapshot.actions)
    request = SeekerRequest(30, SKILL, words, explore=False)
    served = decide(snapshot, encoder, model, request, _generator(), epsilon=0.0).contexts
    logged = encoder.encode([30], [SKILL], [words])
    np.testing.assert_array_equal(served.content, logged.content)
    assert logged.content[0, :, EXPECTED_COSINE].any()  # a model reads the expected cosine
    it_row = snapshot.actions.index(IT)
    assert served.content[0, it_row, 0] == 0.0  # the place words matched no IT posting


def test_a_model_is_served_the_place_of_the_fields_as_training_reads_it_from_the_log(
    snapshot, encoder
):
    skills = SkillVocabulary().skills
    model = QModel(ContextualQNetwork(len(skills), len(snapshot.actions)), skills, snapshot.actions)
    request = SeekerRequest(30, SKILL, WATERCOLOUR, explore=False, work_format="remote")
    served = decide(snapshot, encoder, model, request, _generator(), epsilon=0.0).contexts
    logged = encoder.encode([30], [SKILL], [WATERCOLOUR], [(None, "remote")])
    np.testing.assert_array_equal(served.content, logged.content)
    assert served.content[0, :, PLACE_MISS].all()  # the catalog holds no remote job
    prior = decide(snapshot, encoder, None, request, _generator(), epsilon=0.0).contexts
    assert not prior.content[0, :, PLACE_MISS].any()  # weighed 0 by the prior: not computed


def test_the_content_prior_serves_without_the_expected_cosines(snapshot, encoder):
    request = SeekerRequest(30, SKILL, WATERCOLOUR, explore=False)
    served = decide(snapshot, encoder, None, request, _generator(), epsilon=0.0)
    cosines = [EXPECTED_COSINE, *range(N_CONTENT)[CARD_COSINES]]
    assert not served.contexts.content[0, :, cosines].any()  # weighed 0: not computed
    logged = encoder.encode([30], [SKILL], [WATERCOLOUR])
    assert logged.content[0, :, EXPECTED_COSINE].any()
    assert logged.content[0, :, CARD_COSINES].any()
    served_without = np.delete(served.contexts.content, cosines, axis=2)
    np.testing.assert_array_equal(served_without, np.delete(logged.content, cosines, 2))


MEDIA = "СМИ, маркетинг"


@pytest.fixture(scope="module")
def remote_catalog() -> tuple[CatalogSnapshot, ContextEncoder]:
    """Art and media have remote postings; IT has none."""
    remote = {"a1", "a2", "m1"}
    records = [
        dataclasses.replace(r, schedule="remote" if r.id in remote else "fullDay")
        for r in small_catalog()
        if r.id != "a2"  # a2 is in IT too: IT must have no remote posting
    ]
    records.append(
        dataclasses.replace(
            record("m1", "Иллюстрации для журнала, рисуем обложки.", [MEDIA], 2), schedule="remote"
        )
    )
    snapshot = CatalogSnapshot.from_records(1, records)
    return snapshot, ContextEncoder(snapshot, skill_texts(SkillVocabulary().skills))


def test_an_industry_with_nothing_to_show_is_never_drawn(remote_catalog):
    # A seeker who asked for remote work (the field filters, see choose) was once explored to
    # an industry with no remote posting and got an empty page.
    snapshot, encoder = remote_catalog
    it = snapshot.actions.index(IT)
    remote = snapshot.places.understand("", None, "remote")
    assert snapshot.servable(remote).tolist() == [a != IT for a in snapshot.actions]
    anywhere = snapshot.places.understand("", None, None)
    assert snapshot.servable(anywhere).all()

    request = SeekerRequest(30, SKILL, "python бэкенд", work_format="remote")
    rng = _generator(4)
    served = [decide(snapshot, encoder, None, request, rng, epsilon=1.0) for _ in range(300)]
    assert all(d.action != it and d.items for d in served)
    for action in {d.action for d in served}:  # the rest still drawn with exact odds
        share = sum(d.action == action for d in served) / len(served)
        p = next(d.propensity for d in served if d.action == action)
        assert abs(share - p) < 0.08
    greedy = decide(
        snapshot, encoder, None, dataclasses.replace(request, explore=False), rng, epsilon=0.0
    )
    assert greedy.action != it and greedy.items  # the words point to IT, which has nothing remote


def test_an_industry_the_session_emptied_is_never_drawn(remote_catalog):
    snapshot, encoder = remote_catalog
    media = snapshot.actions.index(MEDIA)
    anywhere = snapshot.places.understand("", None, None)
    assert not snapshot.servable(anywhere, frozenset({"m1"}))[media]
    assert snapshot.servable(anywhere, frozenset({"a1", "gone-from-the-catalog"})).all()

    emptied = SessionHistory(rejected=frozenset({"m1"}))
    request = SeekerRequest(30, SKILL, "обложки для журнала")
    rng = _generator(5)
    served = [
        decide(snapshot, encoder, None, request, rng, epsilon=1.0, history=emptied)
        for _ in range(200)
    ]
    assert all(d.action != media and d.items for d in served)


def test_what_feedback_added_is_read_before_the_empty_industries_move_last(remote_catalog):
    snapshot, encoder = remote_catalog
    skills = SkillVocabulary().skills
    model = QModel(ContextualQNetwork(len(skills), len(snapshot.actions)), skills, snapshot.actions)
    request = SeekerRequest(30, SKILL, "python бэкенд", explore=False, work_format="remote")
    decision = decide(snapshot, encoder, model, request, _generator(), epsilon=0.0)
    it = snapshot.actions.index(IT)
    assert decision.policy_scores[it] < decision.policy_scores.min() + 1e-9  # served last
    rows = industry_scores(
        snapshot.actions,
        decision.contexts,
        decision.policy_scores,
        decision.own_scores,
        decision.model_version,
    )
    as_if_nothing_moved = industry_scores(
        snapshot.actions, decision.contexts, decision.own_scores, decision.own_scores, 1
    )
    assert [r.learned for r in rows] == [r.learned for r in as_if_nothing_moved]
    assert [r.score for r in rows] == decision.policy_scores.tolist()


@pytest.fixture(scope="module")
def shared_posting_catalog() -> tuple[CatalogSnapshot, ContextEncoder]:
    """The best Blender match, a2, is listed under art and IT; media has a weaker one."""
    records = [
        *small_catalog(),
        record(
            "m1",
            "Анимация роликов, моделирование в Blender.",
            [MEDIA],
            2,
        ),
    ]
    snapshot = CatalogSnapshot.from_records(1, records)
    return snapshot, ContextEncoder(snapshot, skill_texts(SkillVocabulary().skills))


def test_industries_are_judged_by_the_postings_the_session_left(
    shared_posting_catalog,
):
    # A sculptor rejected «Художник скульптор», shown under sales; asking again chose the
    # other industry that posting is listed in, for the same (rejected) match, and served
    # five unrelated leftovers while a sculpture teacher was left elsewhere.
    snapshot, encoder = shared_posting_catalog
    request = SeekerRequest(30, SKILL, "3D моделирование в Blender", explore=False)
    first = decide(snapshot, encoder, None, request, _generator(), epsilon=0.0)
    assert first.industry in (ART, IT) and first.items[0].id == "a2"

    match = snapshot.match(request.preference)
    rejected = frozenset({"a2"})
    before = snapshot.features_of(match)[:, 0]  # each industry's best match
    left = snapshot.features_of(snapshot.match_left(match, rejected))[:, 0]
    for i, action in enumerate(snapshot.actions):
        assert left[i] == (0.0 if action in (ART, IT) else before[i]) and before[i] > 0
    assert snapshot.match_left(match, frozenset()) is match
    # Nor does a rejected posting come back as an industry's padding card (what the card
    # cosines read): rows of posting_rows are the index's own order of the vacancy numbers.
    a2 = int(snapshot.index._order[snapshot.cards.number_of("a2")])
    assert a2 in match.card_postings(5)
    assert a2 not in snapshot.match_left(match, rejected).card_postings(5)
    unmatched = snapshot.match_left(match, frozenset({"i1", "gone-from-the-catalog"}))
    np.testing.assert_array_equal(snapshot.features_of(unmatched)[:, 0], before)

    history = SessionHistory(rejected=rejected)
    again = decide(snapshot, encoder, None, request, _generator(), epsilon=0.0, history=history)
    assert again.industry == MEDIA and again.items[0].id == "m1" and again.items[0].matched

    exploring = [
        decide(snapshot, encoder, None, dataclasses.replace(request, explore=True), rng,
               epsilon=1.0, history=history)
        for rng in [_generator(9)]
        for _ in range(300)
    ]  # fmt: skip
    media = sum(d.industry == MEDIA for d in exploring) / len(exploring)
    p_media = next(d.propensity for d in exploring if d.industry == MEDIA)
    assert p_media > 0.5 and abs(media - p_media) < 0.08  # related-first favours what is left


def test_a_seeker_who_typed_nothing_is_explored_evenly(snapshot, encoder):
    # Related-first exploration read the skill's words for them and sent most explored
    # requests where the prior already serves them: their taste was learned from the rest.
    blank = SeekerRequest(30, SKILL, "")
    rng = _generator(11)
    served = [decide(snapshot, encoder, None, blank, rng, epsilon=1.0) for _ in range(300)]
    assert {d.propensity for d in served} == {1 / len(snapshot.actions)}
    typed = SeekerRequest(30, SKILL, WATERCOLOUR)
    on_art = [
        d.propensity
        for d in (decide(snapshot, encoder, None, typed, rng, epsilon=1.0) for _ in range(20))
        if d.industry == ART
    ]
    assert on_art and on_art[0] > 0.7  # typed words still favour their industry


def test_a_card_saying_every_typed_word_is_a_match_wherever_it_says_them(snapshot, encoder):
    # «акварель» typed alone, said only in a posting's description: its title says none of the
    # words, so its score fell under the threshold and the card read "weak match".
    request = SeekerRequest(30, SKILL, "гуашь", k=3, explore=False)
    decision = decide(snapshot, encoder, None, request, _generator(), epsilon=0.0)
    top = decision.items[0]
    assert top.id == "a1" and top.score < MATCH_THRESHOLD  # the title holds none of it
    assert top.coverage == pytest.approx(1.0) and top.matched
    assert all(not item.matched and item.coverage == 0.0 for item in decision.items[1:])
