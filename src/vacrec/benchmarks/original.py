"""A faithful reference of the ORIGINAL service's per-request work, to measure against.

For every request the original selected the industry's postings, fitted a fresh
``TfidfVectorizer`` on their descriptions (its plain tokenizer, no effective
stop-word removal), scored the preference by cosine similarity, took the top 5,
and loaded the Q-network from disk again. This module repeats exactly that
work; it is only used by ``vacrec bench serve``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity
from torch import nn

TOP_N = 5
STATE_SIZE = 2  # [age, skill index], as the original encoded it
HIDDEN = (128, 64)


def q_network(n_actions: int) -> nn.Module:
    """The original's 128-64 MLP over the state [age, skill]."""
    return nn.Sequential(
        nn.Linear(STATE_SIZE, HIDDEN[0]),
        nn.ReLU(),
        nn.Linear(HIDDEN[0], HIDDEN[1]),
        nn.ReLU(),
        nn.Linear(HIDDEN[1], n_actions),
    )


def save_network(path: Path, n_actions: int, seed: int = 0) -> Path:
    """Write a state dict the reference reloads per request (as the original's file)."""
    torch.manual_seed(seed)
    torch.save(q_network(n_actions).state_dict(), path)
    return path


@dataclass(frozen=True)
class Posting:
    """One row of the original's in-memory table: a description and its industry groups."""

    id: str
    description: str
    industries: tuple[str, ...]


class OriginalPath:
    """The original recommend handler's work, minus HTTP."""

    def __init__(self, postings: Sequence[Posting], network_path: Path, n_actions: int) -> None:
        self.postings = list(postings)
        self.network_path = network_path
        self.n_actions = n_actions

    def recommend(self, industry: str, preference: str, age: int, skill: int) -> list[str]:
        """Ids of the top 5 postings of ``industry`` for ``preference``; reloads the net."""
        rows = [p for p in self.postings if industry in p.industries]
        vectorizer = TfidfVectorizer()
        matrix = vectorizer.fit_transform([p.description for p in rows])
        query = vectorizer.transform([preference])
        similarity = cosine_similarity(query, matrix).ravel()
        best = np.argsort(similarity)[::-1][:TOP_N]

        network = q_network(self.n_actions)
        network.load_state_dict(torch.load(self.network_path, weights_only=True))
        network.eval()
        with torch.no_grad():
            network(torch.tensor([[float(age), float(skill)]]))
        return [rows[i].id for i in best]
