"""`vacrec bench cards` on the bundled demo catalog (small: a dozen seekers)."""

from __future__ import annotations

from importlib.resources import as_file, files

from vacrec.benchmarks.cards import run


def test_the_seeker_section_reports_every_figure() -> None:
    with as_file(files("vacrec.catalog") / "demo" / "vacancies.jsonl") as path:
        figures = run(path, seekers=12, seed=1)
    section = figures["seeker"]
    assert section["duplicate_jobs_per_answer"] == 0.0
    assert section["cards_with_raw_markup"] == 0 and section["cards_checked"] > 0
    assert 0.0 <= section["five_new_after_all_rejected"] <= 1.0
    assert section["place_requests_counted"] > 0
    assert section["place_share"] >= section["place_share_without_place"]
    assert set(section["median_ms"]) == {"place", "plain"}
