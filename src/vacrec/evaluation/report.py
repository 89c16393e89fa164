"""Training reports for people and the dashboard: a loss-curve PNG, JSON and Markdown.

Files go to ``settings.reports_dir`` as ``model-<version>.{png,json,md}`` plus
``latest.*`` copies, so the dashboard can always link the newest run.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display on servers; must precede pyplot
import matplotlib.pyplot as plt
import numpy as np

from vacrec.finite import dumps


def plot_loss_curve(loss_curve: np.ndarray, updates: int, path: Path, title: str) -> Path:
    """Mean Huber loss per chunk of updates, placed at the update where each chunk ends."""
    curve = np.asarray(loss_curve, dtype=float)
    steps = np.linspace(updates / max(len(curve), 1), updates, num=len(curve))
    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=100)
    ax.plot(steps, curve, color="#3366cc", linewidth=1.4)
    ax.set_xlabel("update")
    ax.set_ylabel("Huber TD loss")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def _number(value: float | None) -> str:
    """An estimate's number in the table; "n/a" where it is undefined (None)."""
    return "n/a" if value is None else f"{value:.3f}"


def _markdown(report: Mapping[str, Any]) -> str:
    lines = [
        f"# Model {report.get('version')}",
        "",
        f"- transitions: {report.get('transitions')}",
        f"- updates: {report.get('updates')} ({report.get('stopping')})",
        f"- final loss: {report.get('final_loss'):.4f}",
        f"- training: {report.get('seconds'):.2f} s, "
        f"{report.get('samples_per_second'):,.0f} samples/s",
        f"- promoted: {report.get('promoted')} ({report.get('promotion_reason', '')})",
        "",
        "| policy | estimator | value | 95 % CI |",
        "|---|---|---|---|",
    ]
    for policy, estimates in (report.get("ope") or {}).items():
        if not isinstance(estimates, dict):
            continue
        for name, est in estimates.items():
            if isinstance(est, dict) and "value" in est:
                lines.append(
                    f"| {policy} | {name} | {_number(est['value'])} | "
                    f"[{_number(est['low'])}, {_number(est['high'])}] |"
                )
    return "\n".join(lines) + "\n"


def write_training_report(
    reports_dir: Path, report: Mapping[str, Any], loss_curve: np.ndarray, updates: int
) -> dict[str, str]:
    """Write the PNG, JSON and Markdown of one training run; returns their paths."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    stem = f"model-{report.get('version')}"
    png = plot_loss_curve(
        loss_curve,
        updates,
        reports_dir / f"{stem}.png",
        f"training loss, model {report.get('version')}",
    )
    js = reports_dir / f"{stem}.json"
    js.write_text(dumps(report, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    md = reports_dir / f"{stem}.md"
    md.write_text(_markdown(report), encoding="utf-8")
    for src in (png, js, md):
        shutil.copyfile(src, reports_dir / f"latest{src.suffix}")
    return {"png": str(png), "json": str(js), "markdown": str(md)}
