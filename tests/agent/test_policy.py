"""Serving policies (content prior, Q-models) and the propensities ε-greedy serving logs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.agent.agent_fixtures import (
    ART,
    ART_WORDS,
    IT,
    IT_WORDS,
    MKT,
    MKT_WORDS,
    catalog_records,
    encoder,
    snapshot,
)
from tests.ranking.ranking_fixtures import record
from vacrec.agent.context import (
    ENCODING_VERSION,
    N_CONTENT,
    PREFERENCE_TOP,
    SKILL_TOP,
    Contexts,
    prior_scores,
    scale_age,
)
from vacrec.agent.network import ContextualQNetwork
from vacrec.agent.policy import (
    ANY_INDUSTRY_SHARE,
    CONTENT_PRIOR,
    OPTIMISM,
    OPTIMISTIC_FLOOR,
    RELATED_SHARE,
    ContentPrior,
    QModel,
    epsilon_greedy,
    exploration_probabilities,
    greedy,
    optimistic_probabilities,
    policy_matrix,
    related_industries,
    related_to_words,
)
from vacrec.agent.trainer import TrainConfig, train
from vacrec.agent.transitions import LoggedRequest, build_transitions

SKILLS = ("акварель", "геймдев")
INDUSTRIES = (IT, ART)
"""What the model below has embeddings for: not marketing."""


def _model(seed: int = 0) -> QModel:
    torch.manual_seed(seed)
    net = ContextualQNetwork(len(SKILLS), len(INDUSTRIES), hidden=(16,), embedding_dim=4)
    return QModel(net, SKILLS, INDUSTRIES, version=7)


def _contexts() -> Contexts:
    return encoder().encode(
        [25, 40, 55], ["акварель", "геймдев", "живопись"], [ART_WORDS, IT_WORDS, MKT_WORDS]
    )


def _forward(model: QModel, contexts: Contexts, skills: list[int], industries: list[int]):
    with torch.no_grad():
        return model.network(
            torch.from_numpy(scale_age(contexts.ages)),
            torch.tensor(skills),
            torch.tensor(industries),
            torch.from_numpy(contexts.content),
        ).numpy()


# --- policies ---------------------------------------------------------------------------


def test_content_prior_scores_are_the_prior_as_float64():
    contexts = _contexts()

    q = ContentPrior().q_values(contexts)

    assert q.dtype == np.float64 and q.shape == (3, 3)
    np.testing.assert_allclose(q, prior_scores(contexts.content), rtol=1e-7)
    assert CONTENT_PRIOR.version is None


def test_greedy_content_prior_serves_the_industry_the_seeker_wrote_about():
    contexts = _contexts()
    actions = contexts.actions

    chosen = greedy(CONTENT_PRIOR, contexts)

    assert [actions[a] for a in chosen] == [ART, IT, MKT]


def test_q_model_and_content_prior_agree_on_shapes():
    contexts = _contexts()

    q = _model().q_values(contexts)

    assert q.shape == CONTENT_PRIOR.q_values(contexts).shape == (3, 3)
    assert q.dtype == np.float64 and np.isfinite(q).all()
    assert greedy(_model(), contexts).shape == (3,)


def test_q_model_maps_unknown_skills_and_industries_to_zero():
    model = _model()

    assert model.skill_ids(["акварель", "ГЕЙМДЕВ", "живопись", ""]).tolist() == [1, 2, 0, 0]
    assert model.industry_ids([MKT, ART, IT]).tolist() == [0, 2, 1]
    assert model.version == 7 and model.encoding_version == ENCODING_VERSION


def test_q_values_are_the_network_with_the_models_own_ids():
    model = _model()
    contexts = _contexts()  # actions IT, art, marketing; skills known, known, unknown

    q = model.q_values(contexts)

    np.testing.assert_allclose(q, _forward(model, contexts, [1, 2, 0], [1, 2, 0]), rtol=1e-6)


def test_a_group_the_catalog_gained_is_scored_from_its_content():
    """A model that never saw marketing still scores it, and the words for it raise it."""
    model = _model()
    with torch.no_grad():  # hold the gate open: the words then add exactly the linear term
        model.network.gate_slope.zero_()
    enc = encoder()
    typed = enc.encode([30], ["живопись"], [MKT_WORDS])
    silent = enc.encode([30], ["живопись"], [""])
    mkt = enc.actions.index(MKT)

    q_typed, q_silent = model.q_values(typed), model.q_values(silent)

    assert np.isfinite(q_typed).all() and q_typed.shape == (1, 3)
    w = model.network.content_weights.detach().numpy().astype(np.float64)
    gain = (typed.content[0, mkt] - silent.content[0, mkt]) @ w
    assert q_typed[0, mkt] - q_silent[0, mkt] == pytest.approx(gain, abs=1e-5)
    assert gain > 0.1


def test_the_cached_action_ids_follow_the_catalog():
    """The model caches the ids of the last action list; another catalog must not reuse them."""
    model = _model()
    small = encoder(snapshot(catalog_records()[:7]))  # IT and art only
    grown = encoder(
        snapshot([*catalog_records(), record("l1", "Юрист по договорам.", ["Адвокаты"], 1)])
    )
    seekers = ([30, 50], ["акварель", "геймдев"], [ART_WORDS, IT_WORDS])
    before = model.q_values(small.encode(*seekers))

    on_grown = model.q_values(grown.encode(*seekers))
    again = model.q_values(small.encode(*seekers))

    np.testing.assert_array_equal(again, before)
    assert on_grown.shape == (2, 4)
    np.testing.assert_allclose(
        on_grown, _forward(model, grown.encode(*seekers), [1, 2], [0, 1, 2, 0]), rtol=1e-6
    )


def test_a_network_of_another_vocabulary_size_is_refused():
    net = ContextualQNetwork(3, 2)
    with pytest.raises(ValueError, match="3 skills"):
        QModel(net, SKILLS, INDUSTRIES)


def test_greedy_is_the_argmax_of_the_q_values():
    model = _model(seed=4)
    contexts = _contexts()

    assert greedy(model, contexts).tolist() == model.q_values(contexts).argmax(axis=1).tolist()


# --- ε-greedy propensities --------------------------------------------------------------


def test_no_model_is_uniform_with_propensity_one_over_n():
    rng = np.random.default_rng(0)
    decisions = [epsilon_greedy(None, 4, 0.1, rng) for _ in range(2_000)]
    assert {d.propensity for d in decisions} == {0.25}
    assert all(d.greedy is None for d in decisions)
    counts = np.bincount([d.action for d in decisions], minlength=4)
    assert counts.min() > 400  # every action served


def test_explore_false_serves_greedy_with_propensity_one():
    q = np.array([0.1, 0.7, -0.2])
    d = epsilon_greedy(q, 3, 0.5, np.random.default_rng(0), explore=False)
    assert (d.action, d.propensity, d.greedy) == (1, 1.0, 1)


def test_epsilon_greedy_propensities_match_how_often_actions_are_chosen():
    q = np.array([0.0, 0.0, 1.0, 0.5])
    eps, n = 0.2, 20_000
    rng = np.random.default_rng(1)
    decisions = [epsilon_greedy(q, 4, eps, rng) for _ in range(n)]
    expected = {2: 1 - eps + eps / 4, 0: eps / 4, 1: eps / 4, 3: eps / 4}
    for d in decisions[:200]:
        assert d.propensity == pytest.approx(expected[d.action])
        assert d.greedy == 2
    freq = np.bincount([d.action for d in decisions], minlength=4) / n
    for action, p in expected.items():
        assert freq[action] == pytest.approx(p, abs=0.01)


def test_epsilon_at_the_ends_is_pure_greedy_or_pure_uniform():
    q, rng = np.array([0.0, 1.0, 0.0]), np.random.default_rng(2)

    never = [epsilon_greedy(q, 3, 0.0, rng) for _ in range(300)]
    always = [epsilon_greedy(q, 3, 1.0, rng) for _ in range(300)]

    assert {(d.action, d.propensity) for d in never} == {(1, 1.0)}
    assert [d.propensity for d in always] == pytest.approx([1 / 3] * 300)
    assert {d.action for d in always} == {0, 1, 2}


def test_policy_matrix_rows_are_distributions():
    pi = policy_matrix(np.array([0, 2]), 3, epsilon=0.3)
    np.testing.assert_allclose(pi.sum(axis=1), 1.0)
    np.testing.assert_allclose(pi[0], [0.8, 0.1, 0.1])
    np.testing.assert_array_equal(policy_matrix(np.array([1]), 3), [[0.0, 1.0, 0.0]])


def test_bad_arguments_are_refused():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="shape"):
        epsilon_greedy(np.zeros(3), 4, 0.1, rng)
    with pytest.raises(ValueError, match="epsilon"):
        epsilon_greedy(None, 4, 1.5, rng)
    with pytest.raises(ValueError, match="epsilon"):
        epsilon_greedy(None, 4, -0.1, rng)
    with pytest.raises(ValueError, match="no actions"):
        epsilon_greedy(None, 0, 0.1, rng)


def test_a_batch_of_no_seekers_gives_no_rows_of_every_action():
    """Evaluation subsets can be empty; both policies must keep the [n, A] shape."""
    contexts = encoder().encode([], [], [])

    assert _model().q_values(contexts).shape == CONTENT_PRIOR.q_values(contexts).shape == (0, 3)
    assert greedy(_model(), contexts).tolist() == []


def test_exploration_favours_related_industries_but_still_tries_every_one():
    """A request that says what it wants seldom gets an unrelated industry; none is starved."""
    q = np.array([0.0, 0.9, 0.2, 0.1])
    related = np.array([False, True, True, False])
    eps, n = 0.5, 40_000
    rng = np.random.default_rng(4)
    decisions = [epsilon_greedy(q, 4, eps, rng, related=related) for _ in range(n)]
    spread = exploration_probabilities(4, related)
    expected = eps * spread + (1 - eps) * (np.arange(4) == 1)

    freq = np.bincount([d.action for d in decisions], minlength=4) / n
    np.testing.assert_allclose(freq, expected, atol=0.01)
    for d in decisions[:200]:
        assert d.propensity == pytest.approx(expected[d.action])
    assert expected[0] == pytest.approx(eps * ANY_INDUSTRY_SHARE / 4)
    assert expected[0] > 0
    np.testing.assert_allclose(exploration_probabilities(4, np.zeros(4, bool)), 0.25)


def test_related_industries_are_those_near_the_best_match():
    """A stray shared word (a twentieth of the best match) does not make an industry related."""
    best = 0.4
    match = np.array([best, best * RELATED_SHARE, best * RELATED_SHARE * 0.99, best / 20, 0.0])
    assert related_industries(match).tolist() == [True, True, False, False, False]
    assert not related_industries(np.zeros(3)).any()  # nothing matches: nothing is favoured
    np.testing.assert_allclose(exploration_probabilities(3, related_industries(np.zeros(3))), 1 / 3)


def test_exploration_spends_its_wider_share_where_the_policy_is_unsure():
    """Unrelated industries nobody rated are tried; once rated, their share shrinks."""
    related = np.array([True, False, False, False])
    unsure_of_all = exploration_probabilities(4, related, np.ones(4))
    one_known = exploration_probabilities(4, related, np.array([1.0, 1.0, 1.0, 0.1]))
    all_known = exploration_probabilities(4, related, np.array([1.0, 0.1, 0.1, 0.1]))

    for spread in (unsure_of_all, one_known, all_known):
        assert spread.sum() == pytest.approx(1.0) and (spread > 0).all()
    np.testing.assert_allclose(unsure_of_all, exploration_probabilities(4, related))
    assert unsure_of_all[1:].sum() == pytest.approx(ANY_INDUSTRY_SHARE * 3 / 4)
    assert one_known[3] < one_known[1] and one_known[1] == pytest.approx(one_known[2])
    assert all_known[1:].sum() < one_known[1:].sum() < unsure_of_all[1:].sum()


def test_propensities_under_uncertainty_are_exact():
    q = np.array([0.0, 0.9, 0.2, 0.1])
    related = np.array([False, True, True, False])
    unsure = np.array([0.2, 1.0, 0.5, 1.0])
    eps, n = 0.5, 40_000
    rng = np.random.default_rng(5)
    decisions = [epsilon_greedy(q, 4, eps, rng, related=related, unsure=unsure) for _ in range(n)]
    expected = eps * exploration_probabilities(4, related, unsure) + (1 - eps) * (np.arange(4) == 1)
    freq = np.bincount([d.action for d in decisions], minlength=4) / n
    np.testing.assert_allclose(freq, expected, atol=0.01)
    for d in decisions[:200]:
        assert d.propensity == pytest.approx(expected[d.action])


def test_a_trained_model_is_sure_of_what_its_log_rated_and_the_prior_of_nothing():
    enc = encoder()
    rows = [
        LoggedRequest(
            age=30,
            skill="акварель",
            preference="",
            industry=enc.actions[0],
            propensity=0.5,
            reward=1.0,
        )
        for _ in range(48)
    ]
    model = train(build_transitions(rows, enc), TrainConfig(batch_size=8, updates=5)).model
    seekers = enc.encode([30, 30], ["акварель", "геймдев"], ["", ""])

    unsure = model.uncertainty(seekers)
    assert unsure[0, 0] == pytest.approx(1 / 7)  # 48 ratings: 1 / sqrt(49)
    assert unsure[0, 1:].tolist() == [1.0] * (len(enc.actions) - 1)
    assert unsure[1].tolist() == [1.0] * len(enc.actions)  # a skill it never saw
    assert (CONTENT_PRIOR.uncertainty(seekers) == 1.0).all()


# --- optimistic exploration (VACREC_EXPLORE_TEMPERATURE) ---------------------------------


def test_optimistic_exploration_propensities_are_exact_and_match_observed_frequencies():
    q = np.array([0.2, -0.6, 0.1, -0.6])
    unsure = np.array([0.1, 0.1, 0.5, 1.0])  # the last industry was never rated for this skill
    related = np.array([True, True, False, False])
    eps, temperature, n = 0.5, 0.1, 40_000
    rng = np.random.default_rng(7)

    decisions = [
        epsilon_greedy(q, 4, eps, rng, True, related, unsure, temperature) for _ in range(n)
    ]

    explored = exploration_probabilities(4, related, unsure, q, temperature)
    z = (q + OPTIMISM * unsure) / temperature
    soft = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    base = exploration_probabilities(4, related, unsure)
    np.testing.assert_allclose(explored, (1 - OPTIMISTIC_FLOOR) * soft + OPTIMISTIC_FLOOR * base)
    expected = eps * explored
    expected[0] += 1 - eps  # the greedy action
    for d in decisions[:300]:
        assert d.propensity == pytest.approx(expected[d.action])
    freq = np.bincount([d.action for d in decisions], minlength=4) / n
    np.testing.assert_allclose(freq, expected, atol=0.01)
    # An industry never rated is tried far more than one rated as just as bad...
    assert soft[3] > 5 * soft[1]
    # ...and no industry's propensity falls to zero.
    assert explored.min() >= OPTIMISTIC_FLOOR * base.min()


def test_without_a_temperature_exploration_ignores_the_scores():
    related = np.array([True, False, False])
    q = np.array([-1.0, 0.0, 3.0])
    np.testing.assert_allclose(
        exploration_probabilities(3, related, None, q, 0.0), exploration_probabilities(3, related)
    )
    with pytest.raises(ValueError, match="temperature"):
        optimistic_probabilities(q, np.ones(3), 0.0)
    with pytest.raises(ValueError, match="scores"):
        exploration_probabilities(3, related, None, np.zeros(2), 0.1)


@pytest.mark.parametrize("temperature", [0.0, 0.1])
def test_actions_not_allowed_are_never_served_and_the_rest_keep_exact_odds(temperature):
    q = np.array([1.0, 0.5, 0.2, -0.3])  # the best action is not allowed
    allowed = np.array([False, True, True, True])
    related = np.array([True, True, False, False])
    unsure = np.array([0.2, 0.4, 1.0, 1.0])
    eps, n = 0.3, 30_000
    rng = np.random.default_rng(3)
    decisions = [
        epsilon_greedy(q, 4, eps, rng, True, related, unsure, temperature, allowed)
        for _ in range(n)
    ]
    explored = exploration_probabilities(4, related, unsure, q, temperature) * allowed
    expected = eps * explored / explored.sum()
    expected[1] += 1 - eps  # the best allowed is the greedy one
    assert expected.sum() == pytest.approx(1.0) and expected[0] == 0.0
    assert all(d.greedy == 1 for d in decisions[:100])
    for d in decisions[:300]:
        assert d.propensity == pytest.approx(expected[d.action])
    freq = np.bincount([d.action for d in decisions], minlength=4) / n
    np.testing.assert_allclose(freq, expected, atol=0.01)
    # Nothing allowed: the mask is ignored rather than leaving nothing to serve.
    nothing = epsilon_greedy(q, 4, 0.0, rng, True, related, unsure, temperature, ~allowed & False)
    assert nothing.action == 0


def test_only_the_seekers_own_words_make_an_industry_related():
    """A seeker who typed nothing (or words matching nothing) has no related industry: the
    skill's words alone would keep exploration on the industries the prior serves anyway."""
    content = np.zeros((4, N_CONTENT), dtype=np.float32)
    content[:2, SKILL_TOP] = 0.6  # the skill's words point to the first two
    assert not related_to_words(content).any()
    content[2, PREFERENCE_TOP] = 0.5  # the seeker's words point to the third
    assert related_to_words(content).tolist() == [False, False, True, False]
