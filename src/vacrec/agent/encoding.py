"""State encoding: [age scaled to [0, 1] over 14–100, one-hot skill].

``ENCODING_VERSION`` is stored with every model; a model trained on another
encoding is refused at load time instead of silently mis-reading states.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

ENCODING_VERSION = 1
MIN_AGE = 14
MAX_AGE = 100


def state_size(n_skills: int) -> int:
    """Length of an encoded state: one age feature plus the skill one-hot."""
    return 1 + n_skills


def scale_age(ages: np.ndarray | Sequence[int] | int) -> np.ndarray:
    """Ages mapped linearly to [0, 1] (14 → 0, 100 → 1), clipped outside that range."""
    a = np.asarray(ages, dtype=np.float32)
    return np.clip((a - MIN_AGE) / (MAX_AGE - MIN_AGE), 0.0, 1.0)


def encode_states(
    ages: np.ndarray | Sequence[int], skills_idx: np.ndarray | Sequence[int], n_skills: int
) -> np.ndarray:
    """Encode many states at once: float32 array of shape [n, 1 + n_skills]."""
    a = np.asarray(ages)
    s = np.asarray(skills_idx, dtype=np.int64)
    if a.shape != s.shape or a.ndim != 1:
        raise ValueError("ages and skills_idx must be 1-D arrays of equal length")
    if s.size and (s.min() < 0 or s.max() >= n_skills):
        raise ValueError(f"skill index out of range 0..{n_skills - 1}")
    out = np.zeros((a.shape[0], state_size(n_skills)), dtype=np.float32)
    out[:, 0] = scale_age(a)
    out[np.arange(a.shape[0]), 1 + s] = 1.0
    return out


def encode_state(age: int, skill_idx: int, n_skills: int) -> np.ndarray:
    """Encode one state: shape [1 + n_skills]."""
    return encode_states(np.array([age]), np.array([skill_idx]), n_skills)[0]
