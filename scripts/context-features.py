"""Which context features carry what the observable oracle uses? A cheap experiment loop.

Not a test and not part of ``vacrec bench``: a one-off measurement for issue 18 whose table is in
the README ("Training"). For one seed and population of ``vacrec bench train``'s simulator:

* *full information*: ``--seekers`` simulated seekers, the EXACT expected reward of every
  industry for each (``JobSeekerEnv.expected_rewards``), one row per (seeker, industry);
* *4,000 events at ε = 1*: ``--events`` fresh seekers, one industry each drawn as exploration
  serves it with no model (related first), rewarded by sampled votes (tanh of their sum);

LightGBM (the bench peer's settings) is fitted on [age, skill, industry, feature set] and its
greedy policy scored by gap closed on the bench's 5,000 evaluation seekers. ``--vacrec`` also
trains vacrec's own trainer on the ε = 1 log for the sets whose width it accepts.

Candidate features per (seeker, industry), all computed from what the service sees (age, skill,
words) and the catalog (cards, their TF-IDF rows, each posting's skill):

* ``cards``: the five shown cards' individual match scores to the words (not their mean);
* ``mass``: P(wanted posting ∈ industry | words, skill) from a softmax (temperature ``TAU``)
  over the postings' match scores, restricted to postings calling for the seeker's skill;
* ``expected``: under that posterior, E[max cosine of a shown card to the wanted posting],
  E[mean cosine], and P(the wanted posting is among the cards);
* ``count``: postings of the industry scoring ≥ ``NEAR`` × the best score anywhere (log-scaled);
* ``skill_share``: the share of the industry's postings that call for the seeker's skill;
* ``e_mean_cos_any_skill``: the expected mean cosine under the posterior that ignores the skill.

Run: ``PYTHONPATH=src .venv/bin/python scripts/context-features.py --taste independent``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np

from vacrec.agent.context import ContextEncoder, content_match
from vacrec.agent.policy import exploration_probabilities, related_industries
from vacrec.agent.skills import skill_texts
from vacrec.app.snapshots import load_snapshot
from vacrec.benchmarks.peers_lgbm import MAX_ROUNDS, PARAMS, PATIENCE, VALIDATION_SHARE
from vacrec.benchmarks.store import catalog_store
from vacrec.domain import SkillVocabulary
from vacrec.simulate.env import JobSeekerEnv
from vacrec.simulate.population import Seekers
from vacrec.simulate.votes import up_probability

TAU = 0.05
"""Softmax temperature of the posterior over postings (match scores span 0–1)."""
CANDIDATES = 60
"""Postings per industry read from the match for the posterior (best first)."""
NEAR = 0.8
K = 5
EVAL_SEED = 12_345  # the bench's evaluation seekers (evaluate_on_simulator)


class Features:
    """The candidate feature columns of seekers against one snapshot."""

    def __init__(self, env: JobSeekerEnv, skills: tuple[str, ...]) -> None:
        self.env = env
        self.snapshot = env.snapshot
        self.skills = skills
        self.actions = env.actions
        self.number_of = env.postings.number_of
        self.vectors = env.postings.vectors
        self.posting_skill = env.population.posting_skill
        n_postings = len(self.posting_skill)
        # Which industries each posting belongs to: [postings, actions].
        member = np.zeros((n_postings, len(self.actions)), dtype=bool)
        index = self.snapshot.index
        for a, industry in enumerate(self.actions):
            size = index.size(industry)
            if size:
                for vid, _ in index.top_k(industry, "", size).items:
                    member[self.number_of[vid], a] = True
        self.member = member
        sizes = np.maximum(member.sum(axis=0), 1)
        self.skill_share = np.stack(
            [
                (member & (self.posting_skill == s)[:, None]).sum(axis=0) / sizes
                for s in range(len(skills))
            ]
        )  # [skills, actions]
        self._cache: dict[tuple[str, int], np.ndarray] = {}

    NAMES = (
        "card1",
        "card2",
        "card3",
        "card4",
        "card5",
        "mass",
        "mass_any_skill",
        "e_max_cos",
        "e_mean_cos",
        "p_wanted_shown",
        "count_near",
        "skill_share",
        "oracle_content",
        "e_mean_cos_any_skill",
    )

    def of(self, preference: str, skill: int) -> np.ndarray:
        """[actions, len(NAMES)] for one (words, skill)."""
        key = (preference, skill)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._compute(preference, skill)
        return found

    def _compute(self, preference: str, skill: int) -> np.ndarray:
        n_actions = len(self.actions)
        out = np.zeros((n_actions, len(self.NAMES)), dtype=np.float64)
        out[:, 11] = self.skill_share[skill]
        match = self.snapshot.match(preference)
        cards = np.full((n_actions, K), -1, dtype=np.int64)
        scores: dict[int, float] = {}
        for a, industry in enumerate(self.actions):
            ranked = match.top_k(industry, CANDIDATES)
            items = ranked.items
            for j, (vid, score) in enumerate(items[:K]):
                cards[a, j] = self.number_of[vid]
                out[a, j] = score
            if not ranked.fallback:
                for vid, score in items:
                    if score > 0:
                        scores[self.number_of[vid]] = score
        if not scores:
            return out
        numbers = np.fromiter(scores, dtype=np.int64)
        values = np.fromiter(scores.values(), dtype=np.float64)
        best = values.max()
        near = values >= NEAR * best
        out[:, 10] = np.log1p(self.member[numbers[near]].sum(axis=0)) / np.log1p(50)
        logits = (values - best) / TAU
        weights_any = np.exp(logits)
        weights_any /= weights_any.sum()
        same = self.posting_skill[numbers] == skill
        weights = np.where(same, np.exp(logits), 0.0)
        weights = weights / weights.sum() if weights.sum() > 0 else weights_any
        out[:, 5] = weights @ self.member[numbers]
        out[:, 6] = weights_any @ self.member[numbers]
        keep = weights > 1e-4
        w, p = numbers[keep], weights[keep] / weights[keep].sum()
        shown = cards.reshape(-1)
        cos = (self.vectors[w] @ self.vectors[np.maximum(shown, 0)].T).toarray()
        cos[:, shown < 0] = 0.0
        cos = np.clip(cos, 0, 1).reshape(len(w), n_actions, K)
        out[:, 7] = p @ cos.max(axis=2)
        shown_mask = cards >= 0
        out[:, 8] = p @ (cos.sum(axis=2) / np.maximum(shown_mask.sum(axis=1), 1))
        out[:, 9] = p @ (cards[None, :, :] == w[:, None, None]).any(axis=2)
        # Diagnostic only: the simulator's own vote model with no taste (not buildable honestly).
        from vacrec.simulate.votes import expected_tanh_of_votes

        reward = expected_tanh_of_votes(
            up_probability(cos, 0.0), np.broadcast_to(shown_mask, cos.shape)
        )
        out[:, 12] = p @ reward
        # The expected mean cosine under the posterior that ignores the seeker's skill.
        keep_any = weights_any > 1e-4
        w_any, p_any = numbers[keep_any], weights_any[keep_any] / weights_any[keep_any].sum()
        cos_any = (self.vectors[w_any] @ self.vectors[np.maximum(shown, 0)].T).toarray()
        cos_any[:, shown < 0] = 0.0
        cos_any = np.clip(cos_any, 0, 1).reshape(len(w_any), n_actions, K)
        out[:, 13] = p_any @ (cos_any.sum(axis=2) / np.maximum(shown_mask.sum(axis=1), 1))
        return out


SETS: dict[str, tuple[str, ...]] = {
    "today (7 columns)": (),
    "+ cards": ("card1", "card2", "card3", "card4", "card5"),
    "+ mass": ("mass",),
    "+ mass (any skill)": ("mass_any_skill",),
    "+ expected": ("e_max_cos", "e_mean_cos", "p_wanted_shown"),
    "+ expected mean cosine": ("e_mean_cos",),
    "+ expected mean cosine (any skill)": ("e_mean_cos_any_skill",),
    "+ count, skill share": ("count_near", "skill_share"),
    "+ mass, expected": ("mass", "e_max_cos", "e_mean_cos", "p_wanted_shown"),
    "+ mass, expected, skill share": (
        "mass",
        "e_max_cos",
        "e_mean_cos",
        "p_wanted_shown",
        "skill_share",
    ),
    "+ all": Features.NAMES[:-2],
    "+ oracle content (diagnostic)": ("oracle_content",),
}


def table(
    feats: Features, encoder: ContextEncoder, seekers: Seekers
) -> tuple[np.ndarray, np.ndarray]:
    """(today's content [n, A, 7], candidate columns [n, A, len(NAMES)])."""
    names = [feats.skills[s] for s in seekers.skills]
    base = encoder.encode(seekers.ages, names, list(seekers.preferences)).content
    extra = np.stack(
        [feats.of(p, int(s)) for p, s in zip(seekers.preferences, seekers.skills, strict=True)]
    )
    return base.astype(np.float64), extra


def columns(
    seekers: Seekers, base: np.ndarray, extra: np.ndarray, which: tuple[str, ...]
) -> np.ndarray:
    n, n_actions = base.shape[:2]
    picked = [Features.NAMES.index(c) for c in which]
    ages = np.repeat(seekers.ages.astype(np.float64), n_actions)
    skill = np.repeat(seekers.skills.astype(np.float64), n_actions)
    industry = np.tile(np.arange(n_actions, dtype=np.float64), n)
    return np.column_stack(
        [
            ages,
            skill,
            industry,
            base.reshape(n * n_actions, -1),
            extra[:, :, picked].reshape(n * n_actions, -1),
        ]
    )


def fit_lgbm(x: np.ndarray, y: np.ndarray, seed: int) -> lgb.Booster:
    order = np.random.default_rng(seed).permutation(len(y))
    held = max(1, round(VALIDATION_SHARE * len(y)))
    fit_rows, valid_rows = order[held:], order[:held]
    train_set = lgb.Dataset(x[fit_rows], y[fit_rows], categorical_feature=[1, 2])
    valid_set = lgb.Dataset(x[valid_rows], y[valid_rows], reference=train_set)
    return lgb.train(
        {**PARAMS, "seed": seed},
        train_set,
        num_boost_round=MAX_ROUNDS,
        valid_sets=[valid_set],
        callbacks=[lgb.early_stopping(PATIENCE, verbose=False)],
    )


def gap(expected: np.ndarray, chosen: np.ndarray) -> float:
    policy = expected[np.arange(len(chosen)), chosen].mean()
    random, oracle = expected.mean(), expected.max(axis=1).mean()
    return float((policy - random) / (oracle - random))


def vacrec_gaps(path: str, sets: list[str], seed: int) -> dict[str, dict[str, float]]:
    """vacrec's trainer (defaults) on the saved ε = 1 log, per feature set: gap closed."""
    from vacrec.agent.context import Contexts
    from vacrec.agent.trainer import TrainConfig, train
    from vacrec.agent.transitions import Transitions

    d = np.load(path)
    skills = SkillVocabulary().skills
    actions = tuple(f"a{i}" for i in range(d["log_base"].shape[1]))
    out: dict[str, dict[str, float]] = {}
    for name in sets:
        picked = [Features.NAMES.index(c) for c in SETS[name]]

        def contexts(prefix: str, picked: list[int] = picked) -> Contexts:
            content = np.concatenate(
                [d[f"{prefix}_base"], d[f"{prefix}_extra"][:, :, picked]], axis=2
            )
            return Contexts(
                d[f"{prefix}_ages"].astype(np.int64),
                tuple(skills[s] for s in d[f"{prefix}_skills"]),
                content.astype(np.float32),
                actions,
            )

        log = contexts("log")
        n = len(log)
        t = Transitions(
            log,
            np.arange(n),
            np.full(n, -1, dtype=np.int64),
            d["taken"].astype(np.int64),
            d["rewards"].astype(np.float32),
            d["propensities"],
        )
        t0 = time.perf_counter()
        result = train(t, TrainConfig(seed=seed))
        q = result.model.q_values(contexts("ev"))
        out[name] = {
            "events": round(gap(d["ev_expected"], q.argmax(axis=1)), 4),
            "seconds": round(time.perf_counter() - t0, 1),
        }
        print(name, out[name], file=sys.stderr, flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--catalog", type=Path, default=Path("/work/shared/data/hh_artist_vacancies_2023.xlsx")
    )
    parser.add_argument("--taste", default="independent")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seekers", type=int, default=4_000)
    parser.add_argument("--events", type=int, default=4_000)
    parser.add_argument("--eval", type=int, default=5_000)
    parser.add_argument("--sets", default="", help="names of SETS, separated by ;")
    parser.add_argument("--vacrec", action="store_true")
    parser.add_argument(
        "--vacrec-only", action="store_true", help="read the saved log, train vacrec"
    )
    args = parser.parse_args()
    if args.vacrec_only:
        names = [s.strip() for s in args.sets.split(";") if s.strip()] or list(SETS)
        path = f"/tmp/ctxfeat-{args.taste}-{args.seed}.npz"
        print(json.dumps(vacrec_gaps(path, names, args.seed), indent=1, ensure_ascii=False))
        return
    note = lambda m: print(f"[{time.strftime('%H:%M:%S')}] {m}", file=sys.stderr, flush=True)  # noqa: E731
    skills = SkillVocabulary().skills
    with catalog_store(args.catalog, "context features", note) as (engine, _home):
        snapshot = load_snapshot(engine)
    env = JobSeekerEnv(snapshot, skills, seed=args.seed, taste=args.taste)
    encoder = ContextEncoder(snapshot, skill_texts(skills))
    feats = Features(env, tuple(skills))
    rng = np.random.default_rng(args.seed + 1_000)
    note("evaluation seekers")
    ev = env.sample_seekers(args.eval, np.random.default_rng(EVAL_SEED))
    ev_expected = env.expected_rewards(ev)
    ev_base, ev_extra = table(feats, encoder, ev)
    note("full-information seekers")
    full = env.sample_seekers(args.seekers, rng)
    full_expected = env.expected_rewards(full)
    full_base, full_extra = table(feats, encoder, full)
    note("ε = 1 log")
    log = env.sample_seekers(args.events, rng)
    log_base, log_extra = table(feats, encoder, log)
    n_actions = len(env.actions)
    spread = [
        exploration_probabilities(n_actions, related_industries(content_match(row)))
        for row in log_base
    ]
    taken = np.asarray([rng.choice(n_actions, p=p) for p in spread])
    shown = env.shown_postings(log)[np.arange(len(log)), taken]
    sim = env.postings.cosines(log.wants, shown)
    taste = env.taste.of(log.skills, log.ages)[np.arange(len(log)), taken]
    up = up_probability(sim, taste[:, None])
    votes = np.where(rng.random(up.shape) < up, 1, -1) * (shown >= 0)
    rewards = np.tanh(votes.sum(axis=1))
    note("content prior and the feature sets")
    results: dict[str, Any] = {
        "taste": args.taste,
        "seed": args.seed,
        "seekers": args.seekers,
        "events": args.events,
    }
    results["content_prior"] = gap(ev_expected, content_match(ev_base).argmax(axis=1))
    results["oracle_content_argmax"] = gap(ev_expected, ev_extra[:, :, 12].argmax(axis=1))
    wanted = [s.strip() for s in args.sets.split(";") if s.strip()]
    for name, which in SETS.items():
        if wanted and name not in wanted:
            continue
        t0 = time.perf_counter()
        booster = fit_lgbm(
            columns(full, full_base, full_extra, which), full_expected.reshape(-1), args.seed
        )
        x_ev = columns(ev, ev_base, ev_extra, which)
        full_gap = gap(
            ev_expected,
            booster.predict(x_ev, num_iteration=booster.best_iteration)
            .reshape(len(ev), -1)
            .argmax(axis=1),
        )
        rows = np.arange(len(log)) * n_actions + taken
        booster = fit_lgbm(columns(log, log_base, log_extra, which)[rows], rewards, args.seed)
        log_gap = gap(
            ev_expected,
            booster.predict(x_ev, num_iteration=booster.best_iteration)
            .reshape(len(ev), -1)
            .argmax(axis=1),
        )
        results[name] = {
            "full_information": round(full_gap, 4),
            "events": round(log_gap, 4),
            "seconds": round(time.perf_counter() - t0, 1),
        }
        note(f"{name}: {results[name]}")
    np.savez_compressed(
        f"/tmp/ctxfeat-{args.taste}-{args.seed}.npz",
        log_base=log_base,
        log_extra=log_extra,
        taken=taken,
        rewards=rewards,
        log_ages=log.ages,
        log_skills=log.skills,
        ev_base=ev_base,
        ev_extra=ev_extra,
        ev_expected=ev_expected,
        ev_ages=ev.ages,
        ev_skills=ev.skills,
        full_base=full_base,
        full_extra=full_extra,
        full_expected=full_expected,
        full_ages=full.ages,
        full_skills=full.skills,
        propensities=np.asarray([p[a] for p, a in zip(spread, taken, strict=True)]),
    )
    print(json.dumps(results, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
