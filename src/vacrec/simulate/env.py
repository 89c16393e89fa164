"""A Gymnasium environment of simulated job seekers with a latent liking of industries.

Each episode is one user (age, skill, preference text made of that skill's
words) who makes 1–3 requests in a session. The probability that the user
up-votes a shown vacancy depends on the industry through a latent liking that
is deterministic given (industries, skills, seed): each skill has a favourite
industry for younger and one for older users, on top of a mostly negative
baseline, so it is learnable from a few thousand events but only if the agent
uses both age and skill. Reward is tanh(sum of votes), as in the service.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from scipy.stats import binom

MIN_AGE, MAX_AGE = 14, 100
SESSION_LENGTHS = (1, 2, 3)
SESSION_PROBS = (0.6, 0.25, 0.15)

# Words a user of each skill writes into the preference field.
SKILL_WORDS: dict[str, tuple[str, ...]] = {
    "акварель": ("акварель", "рисунок", "кисти", "пейзаж", "иллюстрации", "бумага"),
    "геймдев": ("игры", "игровой", "персонажи", "unity", "локации", "текстуры"),
    "иллюстрация": ("иллюстрации", "книги", "рисунок", "персонажи", "детские", "обложки"),
    "3D-моделирование": ("3d", "моделирование", "blender", "текстуры", "модели", "рендер"),
    "анимация": ("анимация", "мультфильмы", "аниматор", "персонажи", "spine", "движение"),
    "графический дизайн": ("дизайн", "логотипы", "брендинг", "баннеры", "полиграфия", "макеты"),
    "UI/UX-дизайн": ("интерфейсы", "figma", "прототипы", "сайты", "приложения", "ux"),
    "концепт-арт": ("концепт", "арт", "персонажи", "окружение", "скетчи", "игры"),
    "живопись": ("живопись", "масло", "холст", "картины", "портрет", "художник"),
    "скульптура": ("скульптура", "лепка", "глина", "гипс", "скульптор", "формы"),
    "преподавание рисования": ("преподаватель", "дети", "уроки", "рисование", "студия", "курсы"),
    "татуировка": ("тату", "эскизы", "татуировка", "салон", "мастер", "графика"),
    "каллиграфия": ("каллиграфия", "леттеринг", "шрифты", "надписи", "открытки", "буквы"),
    "моушн-дизайн": ("моушн", "after", "effects", "видео", "анимация", "ролики"),
}


def _stable_seed(seed: int, industries: Sequence[str], skills: Sequence[str]) -> int:
    """A seed that depends on the names, not on Python's per-process string hashing."""
    text = "\x1f".join([str(seed), *industries, "\x1e", *skills])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")


def expected_tanh_reward(p: np.ndarray, n_shown: np.ndarray) -> np.ndarray:
    """E[tanh(2B − n)] for B ~ Binomial(n, p): the mean reward of showing n items."""
    p = np.asarray(p, dtype=np.float64)
    n = np.broadcast_to(np.asarray(n_shown, dtype=np.int64), p.shape)
    out = np.zeros(p.shape)
    for count in np.unique(n):
        if count == 0:
            continue
        sel = n == count
        ups = np.arange(count + 1)
        pmf = binom.pmf(ups[None, :], count, p[sel][:, None])
        out[sel] = pmf @ np.tanh(2 * ups - count)
    return out


@dataclass(frozen=True)
class Liking:
    """Latent up-vote logits: base[industry] + affinity[skill, industry] + age terms."""

    base: np.ndarray  # [n_actions]
    affinity: np.ndarray  # [n_skills, n_actions]
    young_favourite: np.ndarray  # [n_skills] industry index
    old_favourite: np.ndarray  # [n_skills] industry index
    age_slope: np.ndarray  # [n_actions]
    favourite_boost: float = 3.0
    age_shift: float = 1.5

    @classmethod
    def build(cls, n_actions: int, n_skills: int, rng: np.random.Generator) -> Liking:
        base = rng.normal(-1.2, 0.4, n_actions)
        affinity = rng.normal(0.0, 0.4, (n_skills, n_actions))
        young = np.empty(n_skills, dtype=np.int64)
        old = np.empty(n_skills, dtype=np.int64)
        for s in range(n_skills):
            pair = rng.choice(n_actions, size=min(2, n_actions), replace=False)
            young[s], old[s] = pair[0], pair[-1]
        return cls(base, affinity, young, old, rng.normal(0.0, 0.5, n_actions))

    def logits(self, ages: np.ndarray, skills_idx: np.ndarray) -> np.ndarray:
        """Up-vote logits [n, n_actions] for users (age, skill)."""
        ages = np.asarray(ages, dtype=np.float64)
        skills_idx = np.asarray(skills_idx, dtype=np.int64)
        z = np.clip((ages - 18.0) / (60.0 - 18.0), 0.0, 1.0)[:, None] * 2 - 1  # −1 young … +1 old
        out = self.base[None, :] + self.affinity[skills_idx] + self.age_slope[None, :] * z
        rows = np.arange(len(skills_idx))
        out[rows, self.young_favourite[skills_idx]] += (
            self.favourite_boost - self.age_shift * z[:, 0]
        )
        out[rows, self.old_favourite[skills_idx]] += self.favourite_boost + self.age_shift * z[:, 0]
        return out


class JobSeekerEnv(gym.Env):
    """One episode = one simulated user's session; one step = one recommendation.

    Observation: {"age": int, "skill": skill index}. Action: industry index.
    Reward: tanh(sum of the user's ±1 votes on the shown vacancies).
    """

    metadata = {"render_modes": []}  # noqa: RUF012  (gymnasium's convention)

    def __init__(
        self,
        industries: Sequence[str],
        skills: Sequence[str],
        seed: int = 0,
        k: int = 5,
        shown_counts: Sequence[int] | None = None,
    ) -> None:
        if not industries or not skills:
            raise ValueError("the simulator needs at least one industry and one skill")
        self.industries = tuple(industries)
        self.skills = tuple(skills)
        self.k = int(k)
        counts = np.full(len(industries), self.k) if shown_counts is None else shown_counts
        self.shown_counts = np.minimum(np.asarray(counts, dtype=np.int64), self.k)
        if self.shown_counts.shape != (len(industries),):
            raise ValueError("shown_counts needs one count per industry")
        self.liking = Liking.build(
            len(industries),
            len(skills),
            np.random.default_rng(_stable_seed(seed, industries, skills)),
        )
        self.action_space = spaces.Discrete(len(industries))
        self.observation_space = spaces.Dict(
            {
                "age": spaces.Discrete(MAX_AGE - MIN_AGE + 1, start=MIN_AGE),
                "skill": spaces.Discrete(len(skills)),
            }
        )
        self._user: tuple[int, int, str] | None = None
        self._remaining = 0

    # --- the user population -------------------------------------------------------------
    def sample_users(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Ages (mostly 18–50, all within 14–100) and uniformly drawn skill indices."""
        ages = np.clip(np.rint(rng.normal(32.0, 10.0, n)), MIN_AGE, MAX_AGE).astype(np.int64)
        return ages, rng.integers(len(self.skills), size=n)

    def preference_text(self, skill_idx: int, rng: np.random.Generator) -> str:
        """A few words typical of the skill, as a user would type them."""
        skill = self.skills[skill_idx]
        words = SKILL_WORDS.get(skill) or tuple(skill.replace("-", " ").split())
        count = min(len(words), int(rng.integers(2, 4)))
        return " ".join(rng.choice(words, size=count, replace=False))

    # --- exact expectations (for evaluation) ---------------------------------------------
    def vote_probabilities(self, ages: np.ndarray, skills_idx: np.ndarray) -> np.ndarray:
        """P(up-vote) of a shown vacancy, per user and industry: [n, n_actions]."""
        return 1.0 / (1.0 + np.exp(-self.liking.logits(ages, skills_idx)))

    def expected_rewards(self, ages: np.ndarray, skills_idx: np.ndarray) -> np.ndarray:
        """Mean reward of each action for each user: [n, n_actions]."""
        p = self.vote_probabilities(ages, skills_idx)
        return expected_tanh_reward(p, np.broadcast_to(self.shown_counts, p.shape))

    def oracle(self, ages: np.ndarray, skills_idx: np.ndarray) -> np.ndarray:
        """Best expected reward per user (what a policy that knows the liking gets)."""
        return self.expected_rewards(ages, skills_idx).max(axis=1)

    # --- votes -----------------------------------------------------------------------------
    def votes(
        self, age: int, skill_idx: int, action: int, n_items: int, rng: np.random.Generator
    ) -> list[int]:
        """The user's ±1 votes on ``n_items`` shown vacancies of industry ``action``."""
        p = self.vote_probabilities(np.array([age]), np.array([skill_idx]))[0, action]
        return [1 if u < p else -1 for u in rng.random(n_items)]

    # --- Gymnasium API ---------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict | None = None):  # type: ignore[override]
        super().reset(seed=seed)
        ages, skills_idx = self.sample_users(1, self.np_random)
        age, skill = int(ages[0]), int(skills_idx[0])
        self._user = (age, skill, self.preference_text(skill, self.np_random))
        self._remaining = int(self.np_random.choice(SESSION_LENGTHS, p=SESSION_PROBS))
        return self._observation(), self._info()

    def step(self, action: int):  # type: ignore[override]
        if self._user is None or self._remaining <= 0:
            raise RuntimeError("call reset() before step()")
        if not self.action_space.contains(action):
            raise ValueError(f"action {action!r} is not an industry index")
        age, skill, _ = self._user
        votes = self.votes(age, skill, int(action), int(self.shown_counts[action]), self.np_random)
        self._remaining -= 1
        info = self._info() | {"votes": votes}
        return self._observation(), float(np.tanh(sum(votes))), self._remaining == 0, False, info

    def _observation(self) -> dict[str, int]:
        assert self._user is not None
        return {"age": self._user[0], "skill": self._user[1]}

    def _info(self) -> dict:
        assert self._user is not None
        age, skill, preference = self._user
        expected = self.expected_rewards(np.array([age]), np.array([skill]))[0]
        return {
            "preference": preference,
            "remaining": self._remaining,
            "oracle": float(expected.max()),
            "best_action": int(expected.argmax()),
        }
