"""The Q-network of the original service: input → 128 → ReLU → 64 → ReLU → one Q per action."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

DEFAULT_HIDDEN: tuple[int, ...] = (128, 64)


class QNetwork(nn.Module):
    """An MLP mapping an encoded state to one Q-value per action; hidden sizes configurable."""

    def __init__(
        self, input_dim: int, n_actions: int, hidden: Sequence[int] = DEFAULT_HIDDEN
    ) -> None:
        super().__init__()
        if input_dim < 1 or n_actions < 1 or any(h < 1 for h in hidden):
            raise ValueError("input_dim, n_actions and hidden sizes must be positive")
        self.input_dim = int(input_dim)
        self.n_actions = int(n_actions)
        self.hidden = tuple(int(h) for h in hidden)
        layers: list[nn.Module] = []
        width = self.input_dim
        for h in self.hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, self.n_actions))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
