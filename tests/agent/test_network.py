"""The contextual Q-network: prior-initialised linear term, MLP blind to the preference."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.agent.agent_fixtures import ART_WORDS, IT_WORDS, MKT_WORDS, encoder
from vacrec.agent.context import (
    CARD_COSINES,
    CARDS,
    CONTENT_FEATURES,
    N_CONTENT,
    PREFERENCE_FEATURES,
    SKILL_TEXT_WEIGHT,
    Contexts,
    prior_scores,
    scale_age,
)
from vacrec.agent.network import (
    GATE_BIAS,
    GATE_SLOPE,
    LEARNED_COLUMNS,
    PRIOR_SCALE,
    ContextualQNetwork,
    prior_weights,
)

PREF = [CONTENT_FEATURES.index(f) for f in PREFERENCE_FEATURES]


def _net(seed: int = 0, n_skills: int = 3, n_industries: int = 3) -> ContextualQNetwork:
    torch.manual_seed(seed)
    return ContextualQNetwork(n_skills, n_industries, hidden=(16, 8), embedding_dim=4)


def _contexts() -> Contexts:
    return encoder().encode(
        [20, 35, 60, 45],
        ["акварель", "UI/UX-дизайн", "геймдев", "живопись"],
        [ART_WORDS, IT_WORDS, "", MKT_WORDS],
    )


def _q(
    net: ContextualQNetwork,
    contexts: Contexts,
    skills: list[int] | None = None,
    industries: torch.Tensor | None = None,
    content: np.ndarray | None = None,
) -> torch.Tensor:
    n, n_actions = len(contexts), len(contexts.actions)
    with torch.no_grad():
        return net(
            torch.from_numpy(scale_age(contexts.ages)),
            torch.tensor(skills if skills is not None else [1, 2, 3, 0][:n]),
            industries if industries is not None else torch.arange(1, n_actions + 1),
            torch.from_numpy(contexts.content if content is None else content),
        )


def test_prior_weights_reproduce_the_content_prior():
    content = _contexts().content

    linear = content @ prior_weights(PRIOR_SCALE)

    np.testing.assert_allclose(linear, PRIOR_SCALE * prior_scores(content), rtol=1e-6, atol=1e-7)
    share = 1 / (1 + SKILL_TEXT_WEIGHT)
    assert prior_weights(1.0)[PREF].tolist() == pytest.approx([0.0, share, 0.0])


def test_content_weights_start_at_the_prior():
    net = ContextualQNetwork(5, 3)

    np.testing.assert_array_equal(net.content_weights.detach().numpy(), prior_weights(PRIOR_SCALE))
    scaled = ContextualQNetwork(5, 3, prior_scale=0.5)
    np.testing.assert_array_equal(scaled.content_weights.detach().numpy(), prior_weights(0.5))


def test_untrained_network_is_the_scaled_prior_plus_the_mlp_output():
    """With the MLP's output layer zeroed, an untrained network is exactly the content prior."""
    net = _net()
    with torch.no_grad():
        net.head[-1].weight.zero_()
        net.head[-1].bias.zero_()
    contexts = _contexts()

    q = _q(net, contexts).numpy()

    np.testing.assert_allclose(q, PRIOR_SCALE * prior_scores(contexts.content), rtol=1e-5)
    assert q.argmax(axis=1).tolist() == prior_scores(contexts.content).argmax(axis=1).tolist()


def test_the_preference_reaches_q_only_through_the_linear_term_and_the_gate():
    """Untrained, preference columns other than the text strength move Q by exactly
    (c' − c)·w: the MLP's weights for them start at zero."""
    net = _net(seed=3)
    with torch.no_grad():  # as after training: every content column may carry weight
        net.content_weights.uniform_(-1.0, 1.0)
    contexts = _contexts()
    changed = contexts.content.copy()
    rng = np.random.default_rng(0)
    for column in (PREF[0], PREF[2]):  # best and share; ``top`` sets the gate
        changed[:, :, column] = rng.uniform(0, 1, size=changed[:, :, column].shape)

    delta = (_q(net, contexts, content=changed) - _q(net, contexts)).numpy()

    w = net.content_weights.detach().numpy()
    np.testing.assert_allclose(delta, (changed - contexts.content) @ w, atol=1e-5)
    assert np.abs(delta).max() > 0.01  # the change did matter


def test_the_learned_part_fades_as_the_words_match_more():
    """Q − w·c = gate · MLP, with gate = sigmoid(b − c · the strongest preference match)."""
    net = _net(seed=3)
    contexts = _contexts()
    weak, strong = contexts.content.copy(), contexts.content.copy()
    weak[:, :, PREF[1]] = 0.0
    strong[:, :, PREF[1]] = 0.0
    strong[:, 0, PREF[1]] = 0.3
    w = net.content_weights.detach().numpy()

    learned_weak = _q(net, contexts, content=weak).numpy() - weak @ w
    learned_strong = _q(net, contexts, content=strong).numpy() - strong @ w

    def gate(strength: float) -> float:
        return 1 / (1 + np.exp(-(GATE_BIAS - GATE_SLOPE * strength)))

    np.testing.assert_allclose(learned_strong, learned_weak * gate(0.3) / gate(0.0), atol=1e-5)
    assert gate(0.3) < 0.2 < 0.95 < gate(0.0)


def test_the_preference_enters_the_mlp_through_weights_that_start_at_zero():
    """Only logs where people typed (or asked for a place) can teach the MLP about it."""
    net = _net(seed=3)
    weights = net.content_layer.weight.detach().numpy()
    words = [
        *PREF,
        CONTENT_FEATURES.index("expected_card_cosine"),
        *(CONTENT_FEATURES.index(f"card_cosine_{k}") for k in range(1, 6)),
        CONTENT_FEATURES.index("place_miss"),
    ]
    assert list(LEARNED_COLUMNS) == words
    assert not weights[:, words].any()
    others = [c for c in range(weights.shape[1]) if c not in words]
    assert np.abs(weights[:, others]).min(axis=0).max() > 0  # the rest start random

    contexts = _contexts()
    changed = contexts.content.copy()
    changed[:, :, 4] += 0.5  # skill_top: reaches the MLP from the start
    delta = (_q(net, contexts, content=changed) - _q(net, contexts)).numpy()
    linear = 0.5 * net.content_weights.detach().numpy()[4]
    assert np.abs(delta - linear).max() > 1e-4  # more than the linear term moved


def test_output_is_batch_by_actions_with_industries_given_once_or_per_row():
    net = _net()
    contexts = _contexts()
    per_action = torch.tensor([1, 2, 3])

    once = _q(net, contexts, industries=per_action)
    per_row = _q(net, contexts, industries=per_action.expand(4, 3).clone())

    assert once.shape == (4, 3)
    torch.testing.assert_close(once, per_row)


def test_industry_identities_can_differ_per_row():
    """Identity dropout hides industries row by row; row 1's hidden industry must not leak."""
    net = _net()
    contexts = _contexts()
    ids = torch.tensor([[1, 2, 3], [1, 0, 3], [1, 2, 3], [1, 2, 3]])

    q = _q(net, contexts, industries=ids)
    full = _q(net, contexts)

    torch.testing.assert_close(q[[0, 2, 3]], full[[0, 2, 3]])
    assert q[1, 1] != full[1, 1]
    torch.testing.assert_close(q[1, [0, 2]], full[1, [0, 2]])


def test_unknown_identities_get_finite_scores_that_differ_from_known_ones():
    net = _net()
    contexts = _contexts()

    unknown = _q(net, contexts, skills=[0, 0, 0, 0], industries=torch.zeros(3, dtype=torch.long))

    assert torch.isfinite(unknown).all()
    assert not torch.equal(unknown, _q(net, contexts))


def test_one_network_scores_any_number_of_actions():
    """The scorer is shared across rows: a catalog with more groups needs no new network."""
    net = _net(n_industries=2)
    contexts = _contexts()

    content = contexts.content.copy()
    content[:, 2, PREF[1]] = 0.0  # keep the text strength (max over actions) in the first two

    q = _q(net, contexts, industries=torch.tensor([1, 2, 0]), content=content)

    assert q.shape == (4, 3) and torch.isfinite(q).all()
    two = _q(net, contexts, industries=torch.tensor([1, 2]), content=content[:, :2])
    torch.testing.assert_close(q[:, :2], two)  # each row is scored on its own


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_skills": -1, "n_industries": 3},
        {"n_skills": 2, "n_industries": -1},
        {"n_skills": 2, "n_industries": 3, "embedding_dim": 0},
        {"n_skills": 2, "n_industries": 3, "hidden": (8, 0)},
    ],
)
def test_bad_sizes_are_refused(kwargs: dict):
    with pytest.raises(ValueError, match="sizes"):
        ContextualQNetwork(**kwargs)


def test_layer_sizes_follow_the_arguments():
    net = ContextualQNetwork(4, 6, hidden=(10,), embedding_dim=3)

    assert net.skill_embedding.num_embeddings == 5  # row 0 = unknown
    assert net.industry_embedding.num_embeddings == 7
    assert net.seeker_layer.in_features == 1 + 3 and net.seeker_layer.out_features == 10
    assert net.industry_layer.in_features == 3 and net.industry_layer.out_features == 10
    assert net.content_layer.in_features == N_CONTENT and net.content_layer.out_features == 10
    assert net.content_weights.shape == (N_CONTENT,)


def test_weights_saved_before_visits_were_counted_still_load():
    trained = ContextualQNetwork(2, 3)
    with torch.no_grad():
        trained.visits.fill_(5.0)
    old = {k: v for k, v in trained.state_dict().items() if k != "visits"}

    loaded = ContextualQNetwork(2, 3)
    loaded.load_state_dict(old)  # strict: only visits may be missing
    assert float(loaded.visits.sum()) == 0.0
    fresh = ContextualQNetwork(2, 3)
    fresh.load_state_dict(trained.state_dict())
    assert float(fresh.visits.sum()) == 5.0 * 3 * 4


def test_scoring_only_the_taken_industry_equals_its_column_of_the_full_scores() -> None:
    """Training scores one industry per sample with the gate's match strength passed in: it
    must be the same number as that industry's column when every industry is scored."""
    net, contexts = _net(seed=3), _contexts()
    _ = torch.nn.init.normal_(net.content_layer.weight)  # let the preference columns count too
    full = _q(net, contexts)
    content = torch.from_numpy(contexts.content)
    taken = torch.tensor([2, 0, 1, 2])
    rows = torch.arange(len(contexts))
    with torch.no_grad():
        one = net(
            torch.from_numpy(scale_age(contexts.ages)),
            torch.tensor([1, 2, 3, 0]),
            (taken + 1).unsqueeze(1),
            content[rows, taken].unsqueeze(1),
            ContextualQNetwork.match_strength(content),
        ).squeeze(1)
    assert torch.allclose(one, full[rows, taken], atol=1e-6)
    # Without the strength of every industry the gate would read only the taken one's match.
    with torch.no_grad():
        blind = net(
            torch.from_numpy(scale_age(contexts.ages)),
            torch.tensor([1, 2, 3, 0]),
            (taken + 1).unsqueeze(1),
            content[rows, taken].unsqueeze(1),
        ).squeeze(1)
    assert not torch.allclose(blind, full[rows, taken], atol=1e-4)


def test_a_wider_content_row_starts_with_its_extra_columns_silent():
    """Columns past the prior's own start at zero in the linear term and the MLP: an untrained
    network scores as if they were not there, whatever they hold."""
    contexts = _contexts()
    torch.manual_seed(0)
    net = ContextualQNetwork(3, 3, hidden=(16, 8), embedding_dim=4, n_content=N_CONTENT + 2)
    extra = np.random.default_rng(0).random((*contexts.content.shape[:2], 2), dtype=np.float32)
    wide = np.concatenate([contexts.content, extra], axis=2)
    zeros = np.concatenate([contexts.content, np.zeros_like(extra)], axis=2)

    torch.testing.assert_close(_q(net, contexts, content=wide), _q(net, contexts, content=zeros))
    assert net.content_weights.shape == (N_CONTENT + 2,)
    assert float(net.content_weights.detach()[N_CONTENT:].abs().sum()) == 0.0
    with pytest.raises(ValueError, match="at least"):
        ContextualQNetwork(3, 3, n_content=N_CONTENT - 1)


def test_each_cards_cosine_goes_through_one_small_network_summed_over_the_cards():
    """The cards' part is a sum of one function of each card's cosine: the same whatever the
    cards' order, zero when every cosine is zero (a request without words), and bent — not a
    linear function of the mean, so one close card differs from five middling ones."""
    net = _net(seed=5)
    with torch.no_grad():
        for p in net.card_layer.parameters():
            p.normal_()
    close_and_far = torch.tensor([[[1.0, 0.0, 0.0, 0.0, 0.0]]])
    middling = torch.full((1, 1, 5), 0.2)

    values = net.card_values(close_and_far)
    assert values.shape == (1, 1, net.hidden[0])
    shuffled = close_and_far[..., torch.tensor([3, 1, 0, 4, 2])]
    torch.testing.assert_close(net.card_values(shuffled), values)
    assert not net.card_values(torch.zeros(1, 1, 5)).any()
    assert (net.card_values(middling) - values).abs().max() > 1e-3  # same mean, other worth


def test_an_untrained_network_ignores_the_card_cosines():
    """Learned only: the per-card network's output layer starts at zero, so the cold start's
    scores do not move with the cards."""
    net = _net(seed=6)
    contexts = _contexts()
    changed = contexts.content.copy()
    changed[:, :, CARD_COSINES] = np.random.default_rng(0).random((*changed.shape[:2], CARDS))

    torch.testing.assert_close(_q(net, contexts, content=changed), _q(net, contexts))
