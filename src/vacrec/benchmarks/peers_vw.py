"""Vowpal Wabbit's contextual bandit (``--cb_adf``) as a peer of vacrec's learner.

One multi-line example per logged request: a ``shared`` line with what the request says of the
seeker (namespace ``S``: the scaled age, the skill, and the skill's own age slope) and one line
per industry (namespace ``A``: the industry's identity and its content feature row, exactly the
columns of vacrec's context). The logged industry carries ``0:cost:probability`` with cost =
−reward and the propensity the service logged, so VW learns off-policy from those rows.

Settings (:data:`ARGS`, also in the README's training benchmark):

- ``--cb_type mtr``: importance-weighted regression of the taken action's cost, the reduction
  VW recommends for learning a greedy policy from logged data;
- ``-q SA``: every shared × action feature pair — skill × industry, age × industry, skill ×
  content, age × content; the skill-by-age feature lets the linear model follow a taste that
  drifts with age within a skill, as the agent's network can;
- one pass over the rows, holdout off (every row is a training row): more passes fitted the
  importance-weighted rows worse on the simulator (seed 0, independent taste, 4,000 events:
  61.7 % gap closed with one pass, 47.9 % with 3, 58.3 % with 3 and ``--clip_p 0.05``;
  ``--cb_type dm`` 28.6 %, ``dr`` 53.8 % with 3 passes);
- ``-b 20`` hash bits; learning rate and updates at VW's defaults (adaptive, normalised,
  invariant).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import vowpalwabbit

from vacrec.agent.context import Contexts
from vacrec.agent.transitions import Transitions
from vacrec.benchmarks.peers import (
    PeerFit,
    PeerPolicy,
    content_names,
    logged_propensities,
    scaled_ages,
    timed,
    token,
)

PASSES = 1
ARGS = f"--cb_adf --cb_type mtr -q SA -b 20 --passes {PASSES} --holdout_off --quiet"


def _shared_lines(contexts: Contexts) -> list[str]:
    ages = scaled_ages(contexts)
    return [
        f"shared |S age:{a:.4f} skill_{token(s)} age_{token(s)}:{a:.4f}"
        for a, s in zip(ages, contexts.skills, strict=True)
    ]


def _action_lines(contexts: Contexts, rows: np.ndarray) -> list[list[str]]:
    """For each of ``rows``, one ``|A`` line per industry (zeros left out: VW skips them)."""
    names = content_names(contexts)
    industries = [f"i_{token(a)}" for a in contexts.actions]
    out: list[list[str]] = []
    for r in rows:
        block = contexts.content[r]
        lines = []
        for a, values in enumerate(block):
            feats = " ".join(f"{n}:{v:.4f}" for n, v in zip(names, values, strict=True) if v)
            lines.append(f"|A {industries[a]} {feats}")
        out.append(lines)
    return out


def _examples(t: Transitions) -> str:
    """The logged rows in VW's text format, one blank-line-separated example per row."""
    contexts = t.contexts.take(t.state)
    shared = _shared_lines(contexts)
    actions = _action_lines(contexts, np.arange(len(t)))
    costs = -t.rewards.astype(np.float64)
    probs = logged_propensities(t)
    parts: list[str] = []
    for i, (head, lines) in enumerate(zip(shared, actions, strict=True)):
        taken = int(t.actions[i])
        lines[taken] = f"0:{costs[i]:.4f}:{probs[i]:.6f} {lines[taken]}"
        parts.append(head + "\n" + "\n".join(lines) + "\n")
    return "\n".join(parts) + "\n"


def _fit(t: Transitions, seed: int) -> tuple[PeerPolicy, dict[str, float | int | str]]:
    with tempfile.TemporaryDirectory(prefix="vacrec-vw-") as tmp:
        data, cache = Path(tmp) / "train.vw", Path(tmp) / "train.cache"
        data.write_text(_examples(t))
        learner = vowpalwabbit.Workspace(
            f"{ARGS} --random_seed {seed} -d {data} --cache_file {cache} -k"
        )
    # The data pass happened in the constructor (``-d``); predict with the same workspace.

    def score(contexts: Contexts) -> np.ndarray:
        shared = _shared_lines(contexts)
        lines = _action_lines(contexts, np.arange(len(contexts)))
        costs = np.empty((len(contexts), len(contexts.actions)))
        for i, (head, block) in enumerate(zip(shared, lines, strict=True)):
            costs[i] = learner.predict([head, *block])
        return -costs

    return PeerPolicy(score), {"args": ARGS, "passes": PASSES}


def fit(transitions: Transitions, seed: int = 0) -> PeerFit:
    """Fit VW's ``--cb_adf`` learner on the logged rows; greedy = lowest predicted cost."""
    return timed(lambda: _fit(transitions, seed))
