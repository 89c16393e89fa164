"""`vacrec bench scale --plot`: the growth curve is drawn from the run's own figures."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vacrec.benchmarks.scale_plot import plot_scale
from vacrec.cli import app

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_size(path: Path) -> tuple[int, int]:
    """Width and height from the PNG's header chunk."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    return struct.unpack(">II", data[16:24])


def test_plot_draws_the_sizes_measured_and_skips_series_a_run_lacks(tmp_path: Path) -> None:
    figures = {
        "cpu_count": 2,
        "sizes": [  # out of order, and the older run lacks the from-store build
            {
                "vacancies": 100_000,
                "build_s": 12.0,
                "load_s": 0.4,
                "build_peak_rss_mb": 900.0,
                "rss_mb_after_requests": 205.0,
                "rss_anon_mb_after_requests": 64.0,
                "request_median_ms": 3.1,
                "request_p99_ms": 7.1,
            },
            {
                "vacancies": 10_000,
                "build_s": 2.8,
                "load_s": 0.06,
                "build_peak_rss_mb": 300.0,
                "rss_mb_after_requests": 116.0,
                "rss_anon_mb_after_requests": 56.0,
                "request_median_ms": 0.9,
                "request_p99_ms": 2.0,
            },
        ],
    }
    path = tmp_path / "docs" / "scale.png"
    drawn = plot_scale(figures, path)
    assert _png_size(path) == (1200, 360)
    assert drawn["memory: building from records: peak"] == [(10_000, 300.0), (100_000, 900.0)]
    assert drawn["a recommendation: in process: median"] == [(10_000, 0.9), (100_000, 3.1)]
    assert not [label for label in drawn if "HTTP" in label or "from the store" in label]
    assert len(drawn) == 6  # every series this run measured, and only those


def test_plot_refuses_a_run_without_sizes(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no size"):
        plot_scale({"sizes": []}, tmp_path / "scale.png")
    assert not (tmp_path / "scale.png").exists()


@pytest.mark.slow
def test_bench_scale_writes_its_json_and_the_curve(shared_xlsx: Path, tmp_path: Path) -> None:
    """The real benchmark at two small sizes, child processes and a server included."""
    png = tmp_path / "scale.png"
    result = CliRunner().invoke(
        app,
        [
            "bench",
            "scale",
            "--catalog",
            str(shared_xlsx),
            "--size",
            "2000",
            "--size",
            "500",
            "--calls",
            "100",
            "--http-calls",
            "20",
            "--json",
            "--plot",
            str(png),
        ],
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout[result.stdout.index("{") :])
    measured = {s["vacancies"]: s for s in figures["sizes"]}
    assert set(measured) == {500, 2000}
    assert measured[2000]["index_mb"] > measured[500]["index_mb"]  # the index grows with N
    assert all(s["request_median_ms"] <= s["request_p99_ms"] for s in measured.values())
    for size in measured.values():  # a real server answered on each filled store
        http = size["build_from_store"]["http"]
        assert http["requests"] == 20 and 0 < http["median_ms"] <= http["p99_ms"]
        assert http["ready_s"] > 0 and http["server_rss_mb"] > 0
    assert _png_size(png) == (1200, 360)
