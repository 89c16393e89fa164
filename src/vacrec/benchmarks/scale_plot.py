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


def _panel(
    ax: Any, sizes: list[dict[str, Any]], series: tuple[tuple[FigurePath, str], ...]
) -> None:
    """One line per series the run measured (a run without a server lacks the HTTP ones)."""
    for path, label in series:
        points = [(s["vacancies"], v) for s in sizes if (v := _figure(s, path)) is not None]
        if points:
            xs, ys = zip(*points, strict=True)
            ax.plot(xs, ys, marker="o", label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("vacancies")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)


def plot_scale(figures: dict[str, Any], path: Path) -> Path:
    """Write the three-panel growth curve of one ``bench scale`` result to ``path`` (PNG)."""
    sizes = sorted(figures["sizes"], key=lambda s: s["vacancies"])
    if not sizes:
        raise ValueError("the benchmark measured no size: nothing to plot")
    fig, (memory, seconds, latency) = plt.subplots(1, 3, figsize=(12, 3.6), dpi=100)
    _panel(memory, sizes, _MEMORY_SERIES)
    memory.set_ylabel("MB")
    memory.set_title("memory")
    _panel(seconds, sizes, _TIME_SERIES)
    seconds.set_ylabel("s")
    seconds.set_title("snapshot build and load")
    _panel(latency, sizes, _LATENCY_SERIES)
    latency.set_ylabel("ms")
    latency.set_title("a recommendation")
    fig.suptitle(f"vacrec bench scale ({figures.get('cpu_count', '?')} cores)", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
