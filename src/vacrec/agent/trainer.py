"""Offline DQN trainer, in the spirit of CleanRL's ``dqn.py``: read it top to bottom.

By default the targets are one-step (γ = 0: each rated request is a contextual-bandit
sample); with γ > 0 they are Double-DQN targets from a target network.

Every hyperparameter lives in :class:`TrainConfig`. Minibatches are sampled
(with replacement) from the logged transitions already held as tensors. With
one-step targets an update scores only the industry each sample took (the loss
reads nothing else), one feature row per sample; with γ > 0 the next states'
every industry is scored for the bootstrap. The number of updates is *derived
from the data size* (``epochs`` passes over the data, clipped to
``[min_updates, max_updates]``). Now and then a skill's or an industry's
identity is hidden (``identity_dropout``) so the "unknown" embedding learns
what a newcomer should get: the average, with the content deciding.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from vacrec.agent.context import scale_age
from vacrec.agent.network import DEFAULT_EMBEDDING, DEFAULT_HIDDEN, PRIOR_SCALE, ContextualQNetwork
from vacrec.agent.policy import QModel
from vacrec.agent.transitions import Transitions


@dataclass(frozen=True)
class TrainConfig:
    """All hyperparameters of one training run (the original's values where it had them)."""

    # The original used batch 32 and lr 2.5e-4 (our starting point). At batch 32 the per-step
    # overhead of a small network caps throughput, so the defaults use larger batches with a
    # matching learning rate; they reach the same quality in far less time (`vacrec bench train`).
    batch_size: int = 256
    learning_rate: float = 1e-3  # Adam
    # One-step targets: a session's next request is the same seeker with the same age, skill
    # and words whatever was served, so γ·Q(s′) is the same for every action and cannot change
    # the choice; it only added noise (and two forward passes per update). The original's 0.95
    # is still accepted.
    gamma: float = 0.0
    epochs: float = 200.0  # passes over the data → number of updates
    min_updates: int = 1_000
    max_updates: int = 20_000  # caps training time on large logs
    updates: int | None = None  # explicit override of the derived count
    target_network_frequency: int = 100  # updates between target-network syncs
    tau: float = 1.0  # 1.0 = hard copy; < 1 = soft (Polyak) update
    max_grad_norm: float = 10.0  # gradient clipping
    hidden: tuple[int, ...] = DEFAULT_HIDDEN
    embedding_dim: int = DEFAULT_EMBEDDING
    prior_scale: float = PRIOR_SCALE  # the content term's starting weight
    identity_dropout: float = 0.1  # share of rows trained as an unknown skill / industry
    # The gate's slope is one number the whole log speaks to: it may move faster than weights.
    gate_learning_rate: float = 0.05
    # L2 on the learned part only (the content weights and the gate stay unpenalised): with a
    # few rewards per (skill, age, industry), the MLP should move off the prior only where
    # the logs agree.
    weight_decay: float = 1.0
    # Early stopping, as LightGBM does: a seeded share of the rows is kept out of the updates,
    # its loss is measured every ``eval_every`` updates, and training ends (keeping the best
    # weights) once it has not improved for ``patience`` measurements.
    validation_share: float = 0.1
    min_validation_rows: int = 50  # fewer and the loss is too noisy to stop on: no stopping
    eval_every: int = 100
    patience: int = 5
    seed: int = 1
    torch_threads: int = 1  # tiny matrices: more threads only add contention
    loss_curve_points: int = 200  # down-sampled loss curve kept for reports

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if self.learning_rate <= 0 or not 0 <= self.gamma < 1:
            raise ValueError("learning_rate must be > 0 and gamma in [0, 1)")
        if self.updates is not None and self.updates < 1:
            raise ValueError("updates must be at least 1")
        if not 0 < self.tau <= 1 or self.target_network_frequency < 1:
            raise ValueError("tau must be in (0, 1] and target_network_frequency >= 1")
        if not 0 <= self.identity_dropout < 1:
            raise ValueError("identity_dropout must be in [0, 1)")
        if not 0 <= self.validation_share < 1 or self.eval_every < 1 or self.patience < 1:
            raise ValueError("validation_share in [0, 1), eval_every and patience >= 1")

    def n_updates(self, n_samples: int) -> int:
        """Updates for ``n_samples`` transitions: explicit, or epochs × n / batch, clipped."""
        if self.updates is not None:
            return self.updates
        derived = math.ceil(self.epochs * n_samples / self.batch_size)
        return int(min(max(derived, self.min_updates), self.max_updates))

    def stopping_rule(self) -> str:
        """How the number of updates was chosen, for reports."""
        if self.updates is not None:
            return f"fixed: {self.updates} updates"
        return (
            f"at most ceil({self.epochs:g} epochs × transitions / {self.batch_size}) clipped to "
            f"[{self.min_updates}, {self.max_updates}]; stops early when the loss on a "
            f"{self.validation_share:.0%} validation share has not improved for "
            f"{self.patience} × {self.eval_every} updates"
        )


@dataclass
class TrainResult:
    """A trained network with what a report needs about how it got there."""

    model: QModel  # the network with the skills and industries it learned embeddings for
    loss_curve: np.ndarray  # mean Huber loss per chunk of updates (≤ loss_curve_points)
    final_loss: float  # mean loss over the last 5 % of updates
    updates: int
    samples: int  # updates × batch size
    seconds: float
    samples_per_second: float
    stopping: str
    config: dict[str, Any] = field(default_factory=dict)


def td_targets(
    rewards: torch.Tensor,
    dones: torch.Tensor,
    next_q_online: torch.Tensor,
    next_q_target: torch.Tensor,
    gamma: float,
) -> torch.Tensor:
    """Double-DQN targets: r + γ·(1 − done)·Q_target(s', argmax_a Q_online(s', a))."""
    best = next_q_online.argmax(dim=1, keepdim=True)
    bootstrap = next_q_target.gather(1, best).squeeze(1)
    return rewards + gamma * (1.0 - dones.float()) * bootstrap


def _split_validation(n: int, config: TrainConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """(training rows, validation rows): a seeded ``validation_share`` kept out of the updates,
    or none when it would hold fewer than ``min_validation_rows`` or updates are fixed."""
    held = round(config.validation_share * n)
    if config.updates is not None or held < config.min_validation_rows:
        return torch.arange(n), torch.empty(0, dtype=torch.int64)
    order = np.random.default_rng(config.seed).permutation(n)
    return torch.from_numpy(np.sort(order[held:])), torch.from_numpy(np.sort(order[:held]))


class _EarlyStopping:
    """Remembers the weights of the lowest validation loss; says when to give up."""

    def __init__(self, network: torch.nn.Module, patience: int) -> None:
        self.network = network
        self.patience = patience
        self.best = math.inf
        self.best_state: dict[str, torch.Tensor] | None = None
        self.waited = 0

    def should_stop(self, loss: float) -> bool:
        if loss < self.best:
            self.best, self.waited = loss, 0
            self.best_state = copy.deepcopy(self.network.state_dict())
            return False
        self.waited += 1
        return self.waited >= self.patience

    def restore_best(self) -> None:
        if self.best_state is not None:
            self.network.load_state_dict(self.best_state)


def downsample(curve: np.ndarray, points: int) -> np.ndarray:
    """Mean of equal chunks so a long curve keeps its shape in ``points`` values."""
    if curve.size <= points:
        return curve.astype(np.float64)
    chunks = np.array_split(curve.astype(np.float64), points)
    return np.array([c.mean() for c in chunks])


def train(transitions: Transitions, config: TrainConfig | None = None) -> TrainResult:
    """Fit a Q-network to logged transitions with Double-DQN minibatch updates."""
    config = config or TrainConfig()
    if len(transitions) == 0:
        raise ValueError("no transitions to train on: log some feedback first")
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(config.torch_threads)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            return _fit(transitions, config)
    finally:
        torch.set_num_threads(previous_threads)


def _fit(t: Transitions, config: TrainConfig) -> TrainResult:
    # The model knows the skills and industries the log has rewards for; others are "unknown".
    contexts = t.contexts
    skills = tuple(sorted({contexts.skills[i] for i in t.state}))
    industries = tuple(sorted({contexts.actions[a] for a in t.actions}))
    q_network = ContextualQNetwork(
        len(skills),
        len(industries),
        config.hidden,
        config.embedding_dim,
        config.prior_scale,
        n_content=contexts.content.shape[-1],
    )
    model = QModel(q_network, skills, industries)
    target_network = copy.deepcopy(q_network)
    prior_part = {id(q_network.gate_slope), id(q_network.content_weights)}
    learned = [p for p in q_network.parameters() if id(p) not in prior_part]
    optimizer = torch.optim.AdamW(
        [
            {"params": learned, "weight_decay": config.weight_decay},
            {"params": [q_network.content_weights], "weight_decay": 0.0},
            {
                "params": [q_network.gate_slope],
                "lr": config.gate_learning_rate,
                "weight_decay": 0.0,
            },
        ],
        lr=config.learning_rate,
        fused=True,
    )

    ages = torch.from_numpy(scale_age(contexts.ages))
    skill_ids = torch.from_numpy(model.skill_ids(contexts.skills))
    industry_ids = torch.from_numpy(model.industry_ids(contexts.actions))
    content = torch.from_numpy(np.ascontiguousarray(contexts.content, dtype=np.float32))
    state = torch.from_numpy(t.state)
    next_state = torch.from_numpy(np.maximum(t.next_state, 0))
    dones = torch.from_numpy(t.dones)
    actions = torch.from_numpy(t.actions.astype(np.int64))
    rewards = torch.from_numpy(t.rewards.astype(np.float32))
    all_terminal = bool(dones.all())  # a pure bandit log needs no next-state passes
    n_actions = len(contexts.actions)
    strength = ContextualQNetwork.match_strength(content)  # [n, 1], what the gate reads

    def q_of(network: ContextualQNetwork, rows: torch.Tensor) -> torch.Tensor:
        """Q of every industry [B, A] (the next states' bootstrap, with γ > 0)."""
        industry = industry_ids.expand(len(rows), n_actions)
        q: torch.Tensor = network(ages[rows], skill_ids[rows], industry, content[rows])
        return q

    def q_taken_of(
        network: ContextualQNetwork, rows: torch.Tensor, taken: torch.Tensor, hide: torch.Tensor
    ) -> torch.Tensor:
        """Q of the taken industry only [B]: a one-step loss needs no other, and scoring one
        row per sample instead of every industry's makes an update ~A times cheaper (the
        gate still reads every industry's match, precomputed in ``strength``)."""
        skill = skill_ids[rows].masked_fill(hide[:, 0], 0)
        industry = industry_ids[taken].masked_fill(hide[:, 1], 0).unsqueeze(1)
        row_content = content[rows, taken].unsqueeze(1)
        q: torch.Tensor = network(ages[rows], skill, industry, row_content, strength[rows])
        return q.squeeze(1)

    train_rows, validation_rows = _split_validation(len(t), config)
    n_updates = config.n_updates(len(t))
    generator = torch.Generator().manual_seed(config.seed)
    picks = torch.randint(len(train_rows), (n_updates, config.batch_size), generator=generator)
    batches = train_rows[picks]
    losses = torch.empty(n_updates)
    params: list[torch.Tensor] = list(q_network.parameters())
    target_params: list[torch.Tensor] = list(target_network.parameters())
    bandit = all_terminal or config.gamma == 0.0  # no next-state passes needed

    def targets(rows: torch.Tensor) -> torch.Tensor:
        if bandit:
            return rewards[rows]
        s2 = next_state[rows]
        return td_targets(
            rewards[rows],
            dones[rows],
            q_of(q_network, s2),
            q_of(target_network, s2),
            config.gamma,
        )

    def validation_loss() -> float:
        with torch.no_grad():
            rows, taken = state[validation_rows], actions[validation_rows]
            shown = torch.zeros(len(rows), 2, dtype=torch.bool)
            q = q_taken_of(q_network, rows, taken, shown)
            return float(F.smooth_l1_loss(q, targets(validation_rows)))

    stopper = _EarlyStopping(q_network, config.patience) if len(validation_rows) else None
    start = time.perf_counter()
    done_updates = n_updates
    for step in range(n_updates):
        idx = batches[step]
        with torch.no_grad():
            y = targets(idx)
        hide = torch.rand(len(idx), 2, generator=generator) < config.identity_dropout
        q_taken = q_taken_of(q_network, state[idx], actions[idx], hide)
        loss = F.smooth_l1_loss(q_taken, y)  # Huber

        optimizer.zero_grad(set_to_none=True)
        torch.autograd.backward(loss)  # loss.backward(), which torch leaves untyped
        torch.nn.utils.clip_grad_norm_(params, config.max_grad_norm, foreach=True)
        optimizer.step()
        losses[step] = loss.detach()

        if not bandit and (step + 1) % config.target_network_frequency == 0:
            with torch.no_grad():
                torch._foreach_lerp_(target_params, params, config.tau)
        measure = (step + 1) % config.eval_every == 0
        if stopper is not None and measure and stopper.should_stop(validation_loss()):
            done_updates = step + 1
            break
    if stopper is not None:
        stopper.restore_best()
    seconds = time.perf_counter() - start
    n_updates = done_updates
    losses = losses[:n_updates]

    curve = losses.numpy()
    tail = max(1, n_updates // 20)
    samples = n_updates * config.batch_size
    with torch.no_grad():  # what the log says of each (skill, industry), for exploration
        taken = industry_ids[actions]
        visits = q_network.visits
        visits.index_put_((skill_ids[state], taken), torch.ones(len(t)), accumulate=True)
    q_network.eval()
    stopping = config.stopping_rule()
    if stopper is not None and n_updates < config.n_updates(len(t)):
        stopping += f"; stopped after {n_updates} updates"
    return TrainResult(
        model=model,
        loss_curve=downsample(curve, config.loss_curve_points),
        final_loss=float(curve[-tail:].mean()),
        updates=n_updates,
        samples=samples,
        seconds=seconds,
        samples_per_second=samples / seconds if seconds > 0 else float("inf"),
        stopping=stopping,
        config=asdict(config),
    )
