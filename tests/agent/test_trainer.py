"""The offline DQN trainer on small hand-made logs against a real catalog snapshot."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.agent.agent_fixtures import (
    ART,
    ART_WORDS,
    IT,
    LAW,
    MKT,
    bandit_log,
    encoder,
    request,
)
from vacrec.agent.context import CONTENT_FEATURES, PREFERENCE_FEATURES, ContextEncoder, Contexts
from vacrec.agent.network import prior_weights
from vacrec.agent.policy import CONTENT_PRIOR, greedy
from vacrec.agent.trainer import (
    TrainConfig,
    TrainResult,
    _EarlyStopping,
    downsample,
    td_targets,
    train,
)
from vacrec.agent.transitions import Transitions, build_transitions

PREF = [CONTENT_FEATURES.index(f) for f in PREFERENCE_FEATURES]
FAST = TrainConfig(batch_size=64, learning_rate=3e-3, updates=250, seed=5)

# The watercolourist writes about art and has an art skill, yet only marketing pays off;
# the UI/UX designer likes IT, as the content says.
CONTRARY = ("акварель", ART_WORDS, MKT)
AGREEING = ("UI/UX-дизайн", "Figma интерфейсы", IT)


@pytest.fixture(scope="module")
def enc() -> ContextEncoder:
    return encoder()


@pytest.fixture(scope="module")
def bandit(enc: ContextEncoder) -> Transitions:
    return bandit_log(enc, [CONTRARY, AGREEING], n=300, seed=1)


@pytest.fixture(scope="module")
def trained(bandit: Transitions) -> TrainResult:
    return train(bandit, FAST)


def test_double_dqn_targets_on_a_hand_computed_batch():
    rewards = torch.tensor([1.0, -0.5, 0.25])
    dones = torch.tensor([False, True, False])
    # Online net picks the action; target net supplies its value.
    next_online = torch.tensor([[0.1, 0.9, 0.3], [5.0, 0.0, 0.0], [0.7, 0.2, 0.6]])
    next_target = torch.tensor([[10.0, 2.0, -1.0], [9.0, 9.0, 9.0], [-2.0, 4.0, 8.0]])
    y = td_targets(rewards, dones, next_online, next_target, gamma=0.95)
    # row 0: argmax online = 1 → target 2.0 → 1 + 0.95·2 = 2.9 (not max target 10)
    # row 1: terminal → −0.5
    # row 2: argmax online = 0 → target −2.0 → 0.25 − 1.9 = −1.65
    assert y.tolist() == pytest.approx([2.9, -0.5, -1.65])


def test_number_of_updates_is_derived_from_data_size():
    config = TrainConfig(batch_size=100, epochs=10, min_updates=50, max_updates=1_000)
    assert config.n_updates(2_000) == 200
    assert config.n_updates(10) == 50  # floor
    assert config.n_updates(1_000_000) == 1_000  # cap
    assert TrainConfig(updates=7).n_updates(1_000_000) == 7
    assert "at most ceil(10 epochs" in config.stopping_rule()
    assert "stops early" in config.stopping_rule()
    assert TrainConfig(updates=7).stopping_rule() == "fixed: 7 updates"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch_size": 0}, "batch_size"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"gamma": 1.0}, "gamma"),
        ({"updates": 0}, "updates"),
        ({"tau": 0.0}, "tau"),
        ({"target_network_frequency": 0}, "target_network_frequency"),
        ({"identity_dropout": 1.0}, "identity_dropout"),
    ],
)
def test_bad_hyperparameters_are_refused(kwargs: dict, message: str):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**kwargs)


def test_downsample_keeps_short_curves_and_averages_long_ones():
    assert downsample(np.array([1.0, 2.0]), 5).tolist() == [1.0, 2.0]
    assert downsample(np.arange(6.0), 3).tolist() == [0.5, 2.5, 4.5]


def test_an_empty_log_is_refused(enc: ContextEncoder):
    empty = build_transitions([], enc)
    assert len(empty) == 0
    with pytest.raises(ValueError, match="no transitions"):
        train(empty, FAST)


def test_training_reports_what_it_did(trained: TrainResult):
    assert trained.updates == 250 and trained.samples == 250 * 64
    assert trained.stopping == "fixed: 250 updates"
    assert trained.config["seed"] == 5 and trained.config["batch_size"] == 64
    assert 0 < trained.loss_curve.size <= FAST.loss_curve_points
    assert trained.final_loss < trained.loss_curve[0]


def test_training_is_reproducible_for_a_fixed_seed(bandit: Transitions):
    config = TrainConfig(batch_size=32, updates=60, seed=5)
    a, b = train(bandit, config), train(bandit, config)
    other = train(bandit, TrainConfig(batch_size=32, updates=60, seed=6))

    def same(x: TrainResult, y: TrainResult) -> bool:
        pairs = zip(x.model.network.parameters(), y.model.network.parameters(), strict=True)
        return all(torch.equal(p, q) for p, q in pairs)

    assert same(a, b)
    assert not same(a, other)
    assert a.loss_curve.tolist() == b.loss_curve.tolist()


def test_training_leaves_the_global_torch_state_alone(bandit: Transitions):
    torch.manual_seed(123)
    expected = torch.rand(3)
    threads = torch.get_num_threads()
    torch.manual_seed(123)

    train(bandit, TrainConfig(batch_size=8, updates=3, torch_threads=1))

    assert torch.equal(torch.rand(3), expected)
    assert torch.get_num_threads() == threads


def test_learns_a_skills_taste_where_it_contradicts_the_content(
    enc: ContextEncoder, trained: TrainResult
):
    seekers = enc.encode(
        [30, 30], [CONTRARY[0], AGREEING[0]], [CONTRARY[1], AGREEING[1]]
    )  # ages are arbitrary: rewards do not depend on them

    q = trained.model.q_values(seekers)

    assert [enc.actions[a] for a in greedy(CONTENT_PRIOR, seekers)] == [ART, IT]
    assert [enc.actions[a] for a in q.argmax(axis=1)] == [MKT, IT]
    mkt, it = enc.actions.index(MKT), enc.actions.index(IT)
    assert q[0, mkt] == pytest.approx(0.9, abs=0.15)
    assert q[1, it] == pytest.approx(0.9, abs=0.15)
    assert q[0, enc.actions.index(ART)] == pytest.approx(-0.6, abs=0.2)


def test_a_log_without_typed_preferences_leaves_the_preference_weights_at_the_prior(
    enc: ContextEncoder,
):
    """Nobody typed → zero gradient: a typed seeker is still served from their words."""
    t = bandit_log(enc, [("акварель", "", MKT), ("UI/UX-дизайн", "", IT)], n=200, seed=2)
    assert not t.contexts.content[:, :, PREF].any()

    result = train(t, TrainConfig(batch_size=32, learning_rate=1e-2, updates=150, seed=1))

    weights = result.model.network.content_weights.detach().numpy()
    np.testing.assert_array_equal(weights[PREF], prior_weights(FAST.prior_scale)[PREF])
    assert not np.array_equal(weights, prior_weights(FAST.prior_scale))  # the rest did learn


def test_the_model_knows_the_skills_and_industries_its_rewards_came_from(enc: ContextEncoder):
    rows = [
        request("геймдев", "", IT, 0.5, session_id="a"),
        request("живопись", "", ART, None, session_id="a"),  # unrated next state only
        request("акварель", "", ART, -0.5),
        request("акварель", "", LAW, 0.9),  # industry left the catalog: dropped
        request("скульптура", "", ART, None),  # never rated
    ]

    result = train(build_transitions(rows, enc), TrainConfig(batch_size=4, updates=5))

    assert result.model.skills == ("акварель", "геймдев")
    assert result.model.industries == (IT, ART) == tuple(sorted((IT, ART)))
    assert result.model.skill_ids(["живопись", "скульптура"]).tolist() == [0, 0]
    assert result.model.industry_ids([MKT]).tolist() == [0]


def _two_step_sessions(n: int, seed: int = 0) -> list:
    """Sessions of two requests: the first pays nothing whatever is served; the second pays
    +0.9 for marketing (−0.6 otherwise), so only bootstrapping gives the first a value."""
    rng = np.random.default_rng(seed)
    actions = encoder().actions
    rows = []
    for k in range(n):
        first = actions[int(rng.integers(3))]
        second = actions[int(rng.integers(3))]
        rows.append(request("геймдев", "", first, 0.0, session_id=f"s{k}"))
        rows.append(
            request("живопись", "", second, 0.9 if second == MKT else -0.6, session_id=f"s{k}")
        )
    return rows


def test_a_session_bootstraps_from_the_next_request_and_a_terminal_row_does_not(
    enc: ContextEncoder,
):
    rows = _two_step_sessions(120)
    config = TrainConfig(
        batch_size=64, learning_rate=3e-3, updates=150, gamma=0.9, target_network_frequency=25
    )
    linked = build_transitions(rows, enc)
    terminal = build_transitions(rows, enc, terminal=True)
    assert not linked.dones[::2].any() and terminal.dones.all()
    first = enc.encode([30], ["геймдев"], [""])

    q_linked = train(linked, config).model.q_values(first)[0]
    q_terminal = train(terminal, config).model.q_values(first)[0]

    # r + γ·max Q(s′) = 0 + 0.9 · 0.9 for every action of the first request
    assert q_linked == pytest.approx([0.81] * 3, abs=0.15)
    assert q_terminal == pytest.approx([0.0] * 3, abs=0.15)


def test_by_default_targets_are_one_step_so_sessions_change_nothing(enc: ContextEncoder):
    """The next request of a session is the same seeker whatever was served: bootstrapping
    from it cannot change the choice, so the default ignores it."""
    rows = _two_step_sessions(120)
    config = TrainConfig(batch_size=64, learning_rate=3e-3, updates=150, seed=3)
    first = enc.encode([30], ["геймдев"], [""])

    q_linked = train(build_transitions(rows, enc), config).model.q_values(first)[0]
    q_terminal = train(build_transitions(rows, enc, terminal=True), config).model.q_values(first)
    assert q_linked == pytest.approx(q_terminal[0], abs=1e-6)


def test_training_stops_early_once_the_validation_loss_stops_improving(enc: ContextEncoder):
    log = bandit_log(enc, [CONTRARY, AGREEING], n=1_000, seed=2)  # 100 validation rows
    config = TrainConfig(batch_size=64, learning_rate=3e-3, epochs=500, seed=5)
    result = train(log, config)

    assert result.updates < config.n_updates(len(log))
    assert f"stopped after {result.updates} updates" in result.stopping
    assert result.updates % config.eval_every == 0


def test_a_small_log_or_fixed_updates_train_without_a_validation_share(bandit: Transitions):
    few = bandit.subset(np.arange(len(bandit)) < 100)  # 10 % would be 10 rows: too noisy
    assert train(few, TrainConfig(batch_size=16, epochs=1, min_updates=200, seed=1)).updates == 200
    assert train(bandit, TrainConfig(batch_size=16, updates=120)).updates == 120


def test_early_stopping_keeps_the_best_weights():
    network = torch.nn.Linear(1, 1)
    stopper = _EarlyStopping(network, patience=2)
    with torch.no_grad():
        network.weight.fill_(1.0)
        assert not stopper.should_stop(3.0)
        network.weight.fill_(2.0)
        assert not stopper.should_stop(2.0)  # the best
        network.weight.fill_(3.0)
        assert not stopper.should_stop(2.5)
        network.weight.fill_(4.0)
        assert stopper.should_stop(2.6)  # two measurements without improvement
    stopper.restore_best()
    assert float(network.weight.detach()) == 2.0


def test_a_context_with_more_columns_is_trained_on_and_its_extra_column_learnt(
    bandit: Transitions,
):
    """The network takes the context's width: a column the rewards follow is learnt."""
    contexts = bandit.contexts
    extra = np.random.default_rng(3).random((len(contexts), len(contexts.actions), 1))
    wide = Contexts(
        contexts.ages,
        contexts.skills,
        np.concatenate([contexts.content, extra.astype(np.float32)], axis=2),
        contexts.actions,
    )
    rewards = 2.0 * extra[bandit.state, bandit.actions, 0] - 1.0
    log = Transitions(
        wide,
        bandit.state,
        bandit.next_state,
        bandit.actions,
        rewards.astype(np.float32),
        bandit.propensities,
    )

    result = train(log, TrainConfig(batch_size=64, learning_rate=3e-3, updates=600, seed=5))

    assert result.model.network.n_content == contexts.content.shape[-1] + 1
    chosen = result.model.q_values(wide).argmax(axis=1)
    chance = 1.0 / len(contexts.actions)
    assert float(np.mean(chosen == extra[:, :, 0].argmax(axis=1))) > 2 * chance
