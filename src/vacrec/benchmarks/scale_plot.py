"""The growth curve of `vacrec bench scale --plot PATH`: memory, build time and latency by size.

Drawn from the benchmark's own JSON, so the picture in the README is the run
whose figures sit beside it. Log–log axes: a straight line of slope 1 is
linear growth, flatter is better.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display on servers; must precede pyplot
import matplotlib.pyplot as plt

FigurePath = tuple[str, ...]
"""Where a figure sits in one size's entry: keys, outermost first."""

_MEMORY_SERIES: tuple[tuple[FigurePath, str], ...] = (
    (("build_from_store", "vm_hwm_mb"), "building from the store: peak"),
    (("build_peak_rss_mb",), "building from records: peak"),
    (("build_from_store", "http", "server_rss_mb"), "server after the HTTP requests"),
    (("rss_mb_after_requests",), "loaded snapshot, in process"),
)
_TIME_SERIES: tuple[tuple[FigurePath, str], ...] = (
    (("build_from_store", "seconds"), "build from the store"),
    (("build_s",), "build from records"),
    (("load_s",), "load (memory-map)"),
    (("build_from_store", "http", "ready_s"), "server ready"),
)
_LATENCY_SERIES: tuple[tuple[FigurePath, str], ...] = (
    (("build_from_store", "http", "median_ms"), "over HTTP: median"),
    (("build_from_store", "http", "p99_ms"), "over HTTP: p99"),
    (("request_median_ms",), "in process: median"),
    (("request_p99_ms",), "in process: p99"),
)


def _figure(size: dict[str, Any], path: FigurePath) -> float | None:
    value: Any = size
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return None if value is None else float(value)


Drawn = dict[str, list[tuple[int, float]]]
"""What a plot shows: "panel: series" → (vacancies, value) points."""


def _panel(
    ax: Any, sizes: list[dict[str, Any]], series: tuple[tuple[FigurePath, str], ...]
) -> Drawn:
    """One line per series the run measured (a run without a server lacks the HTTP ones)."""
    drawn: Drawn = {}
    for path, label in series:
        points = [(s["vacancies"], v) for s in sizes if (v := _figure(s, path)) is not None]
        if points:
            xs, ys = zip(*points, strict=True)
            ax.plot(xs, ys, marker="o", label=label)
            drawn[label] = points
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("vacancies")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    return drawn


def plot_scale(figures: dict[str, Any], path: Path) -> Drawn:
    """Write the three-panel growth curve of one ``bench scale`` result to ``path`` (PNG);
    returns what it drew."""
    sizes = sorted(figures["sizes"], key=lambda s: s["vacancies"])
    if not sizes:
        raise ValueError("the benchmark measured no size: nothing to plot")
    fig, (memory, seconds, latency) = plt.subplots(1, 3, figsize=(12, 3.6), dpi=100)
    drawn: Drawn = {}
    for ax, title, unit, series in (
        (memory, "memory", "MB", _MEMORY_SERIES),
        (seconds, "snapshot build and load", "s", _TIME_SERIES),
        (latency, "a recommendation", "ms", _LATENCY_SERIES),
    ):
        panel = _panel(ax, sizes, series)
        drawn |= {f"{title}: {label}": points for label, points in panel.items()}
        ax.set_ylabel(unit)
        ax.set_title(title)
    fig.suptitle(f"vacrec bench scale ({figures.get('cpu_count', '?')} cores)", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return drawn
