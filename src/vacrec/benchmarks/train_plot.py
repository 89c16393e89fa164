"""The learning curve of `vacrec bench train --curve PATH`: gap closed vs logged events.

Drawn from the benchmark's own JSON (its ``learners`` table), so the picture in the README is
the run whose figures sit beside it: one panel per population, one line per learner (mean over
seeds, the band spanning the seeds), the content prior and the observable oracle as references.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display on servers; must precede pyplot
import matplotlib.pyplot as plt

SERIES: tuple[tuple[str, str, str], ...] = (
    # key in the table, label, line style
    ("vacrec", "vacrec (DQN trainer)", "-"),
    ("vw", "Vowpal Wabbit --cb_adf", "-"),
    ("lightgbm", "LightGBM direct method", "-"),
    ("content_prior", "content prior (no training)", ":"),
    ("observable_oracle", "observable oracle (ceiling)", "--"),
)

Drawn = dict[str, list[tuple[int, float]]]
"""What a plot shows: "population: learner" → (events, mean gap closed) points."""


def plot_learning_curves(figures: dict[str, Any], path: Path) -> Drawn:
    """Write the curves of one ``bench train`` result to ``path`` (format by suffix: .svg, .png);
    returns what it drew."""
    table: dict[str, dict[str, dict[str, Any]]] = figures["learners"]
    if not table:
        raise ValueError("the benchmark measured no population: nothing to plot")
    plt.rcParams["svg.fonttype"] = "none"  # text stays text: a small, searchable SVG
    fig, axes = plt.subplots(1, len(table), figsize=(5 * len(table), 3.6), dpi=100, sharey=True)
    axes = [axes] if len(table) == 1 else list(axes)
    drawn: Drawn = {}
    for ax, (taste, by_budget) in zip(axes, table.items(), strict=True):
        budgets = sorted(by_budget, key=int)
        for key, label, style in SERIES:
            points = [(int(b), by_budget[b][key]) for b in budgets if key in by_budget[b]]
            if not points:
                continue
            xs = [x for x, _ in points]
            means = [100 * e["gap_closed_mean"] for _, e in points]
            line = ax.plot(xs, means, style, marker="o" if style == "-" else None, label=label)
            if style == "-":
                low = [100 * min(e["gap_closed"]) for _, e in points]
                high = [100 * max(e["gap_closed"]) for _, e in points]
                ax.fill_between(xs, low, high, color=line[0].get_color(), alpha=0.15, lw=0)
            drawn[f"{taste}: {key}"] = [(x, m / 100) for x, m in zip(xs, means, strict=True)]
        ax.set_xscale("log")
        ax.set_title(f"{taste} taste")
        ax.set_xlabel("logged events (ε = 1)")
        ax.grid(alpha=0.3, which="both")
    axes[0].set_ylabel("gap closed, % (random → oracle)")
    axes[0].legend(fontsize=7, loc="lower right")
    seeds = figures.get("seeds", [])
    fig.suptitle(f"vacrec bench train: mean of {len(seeds)} seed(s), band = range", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, metadata={"Date": None} if path.suffix == ".svg" else None)
    plt.close(fig)
    return drawn
