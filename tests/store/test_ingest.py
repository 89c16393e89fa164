"""Ingest into real SQLite and PostgreSQL: counts, idempotence, versions, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from tests.catalog.factories import normalised, original_row, write_jsonl, write_xlsx
from vacrec.catalog.readers import CatalogFileError
from vacrec.store.catalog import catalog_industries, current_catalog_version
from vacrec.store.ingest import ingest_paths
from vacrec.store.tables import vacancies, vacancy_industries

ART = "Искусство, развлечения, масс-медиа"
IT = "Информационные технологии, интернет, телеком"


def _count(engine: Engine, table=vacancies) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_shared_spreadsheet_gives_1240_vacancies_in_23_groups(
    engine: Engine, shared_xlsx: Path
) -> None:
    report = ingest_paths(engine, [shared_xlsx])
    assert report.read == 1387
    assert report.inserted == 1240
    assert report.skipped_duplicates == 147
    assert report.rejected == 0
    assert report.industries == 23
    assert report.inferred == 287
    assert report.inference_accuracy is not None and report.inference_accuracy > 0.5
    with engine.connect() as conn:
        assert len(catalog_industries(conn)) == 23
        inferred = conn.execute(
            select(vacancies.c.industries, vacancies.c.industry_confidence).where(
                vacancies.c.industry_inferred.is_(True)
            )
        ).all()
    assert len(inferred) == 287
    assert all(len(groups) == 1 and 0 < confidence <= 1 for groups, confidence in inferred)

    again = ingest_paths(engine, [shared_xlsx])
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 1240)
    assert again.catalog_version is None
    assert _count(engine) == 1240


def test_reingest_is_idempotent_and_changes_bump_the_version(
    engine: Engine, tmp_path: Path
) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", [normalised(i) for i in range(5)])
    first = ingest_paths(engine, [path])
    assert (first.inserted, first.catalog_version) == (5, 1)
    assert ingest_paths(engine, [path]).catalog_version is None

    rows = [normalised(i) for i in range(5)]
    rows[2]["name"] = "Старший художник"
    rows.append(normalised(9, [IT]))
    second = ingest_paths(engine, [write_jsonl(tmp_path / "b.jsonl", rows)])
    assert (second.inserted, second.updated, second.unchanged) == (1, 1, 4)
    assert second.catalog_version == 2
    with engine.connect() as conn:
        assert current_catalog_version(conn) == 2
        name = conn.execute(select(vacancies.c.name).where(vacancies.c.id == "t-2")).scalar_one()
        assert catalog_industries(conn) == sorted([ART, IT])
    assert name == "Старший художник"


def test_changed_industries_replace_the_old_links(engine: Engine, tmp_path: Path) -> None:
    ingest_paths(engine, [write_jsonl(tmp_path / "a.jsonl", [normalised(1, [ART, IT])])])
    ingest_paths(engine, [write_jsonl(tmp_path / "b.jsonl", [normalised(1, [IT])])])
    with engine.connect() as conn:
        links = conn.execute(select(vacancy_industries.c.industry)).scalars().all()
    assert links == [IT]


def test_replace_deletes_vacancies_missing_from_the_new_files(
    engine: Engine, tmp_path: Path
) -> None:
    ingest_paths(engine, [write_jsonl(tmp_path / "a.jsonl", [normalised(i) for i in range(4)])])
    report = ingest_paths(
        engine, [write_jsonl(tmp_path / "b.jsonl", [normalised(0)])], replace=True
    )
    assert report.deleted == 3
    assert _count(engine) == 1
    assert _count(engine, vacancy_industries) == 1


def test_bad_rows_are_counted_and_good_rows_stored(engine: Engine, tmp_path: Path) -> None:
    rows = [normalised(1), normalised(2, description=""), "[1, 2", normalised(4)]
    report = ingest_paths(engine, [write_jsonl(tmp_path / "a.jsonl", rows)])
    assert (report.read, report.inserted, report.rejected) == (4, 2, 2)
    assert {r["row"] for r in report.rejections} == {2, 3}
    assert _count(engine) == 2


def test_a_bad_file_among_good_ones_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    good = write_jsonl(tmp_path / "good.jsonl", [normalised(1)])
    junk = tmp_path / "junk.csv"
    junk.write_bytes(b"\x00\x01\x02garbage")
    with pytest.raises(CatalogFileError):
        ingest_paths(engine, [good, junk])
    assert _count(engine) == 0
    with engine.connect() as conn:
        assert current_catalog_version(conn) is None


def test_duplicate_descriptions_and_ids_are_skipped(engine: Engine, tmp_path: Path) -> None:
    rows = [normalised(1), normalised(2, description=normalised(1)["description"]),
            normalised(1, name="Тот же id")]  # fmt: skip
    report = ingest_paths(engine, [write_jsonl(tmp_path / "a.jsonl", rows)])
    assert (report.inserted, report.skipped_duplicates) == (1, 2)


def test_rows_without_industry_get_an_inferred_group(engine: Engine, tmp_path: Path) -> None:
    rows = [original_row(i, [ART] if i % 2 else [IT]) for i in range(1, 21)]
    rows.append(original_row(99, None))
    report = ingest_paths(engine, [write_xlsx(tmp_path / "a.xlsx", rows)])
    assert report.inferred == 1
    with engine.connect() as conn:
        row = conn.execute(
            select(vacancies.c.industries, vacancies.c.industry_inferred).where(
                vacancies.c.id == "70000099"
            )
        ).one()
    assert row.industry_inferred is True
    assert row.industries[0] in {ART, IT}


def test_a_first_real_ingest_replaces_the_demo_catalog_and_a_second_adds(
    engine: Engine, tmp_path: Path
) -> None:
    """The demo is for an empty store only: its example.org postings must not mix with real."""
    from vacrec.learning import ensure_catalog

    ensure_catalog(engine)
    demo = _count(engine)
    with engine.connect() as conn:
        demo_ids = set(conn.execute(select(vacancies.c.id)).scalars())
    assert demo > 100

    first = ingest_paths(engine, [write_jsonl(tmp_path / "a.jsonl", [normalised(1)])])
    second = ingest_paths(engine, [write_jsonl(tmp_path / "b.jsonl", [normalised(2)])])

    assert first.replaced_demo is True and first.deleted == demo and first.vacancies == 1
    assert second.replaced_demo is False and second.deleted == 0 and second.vacancies == 2
    with engine.connect() as conn:
        kept = set(conn.execute(select(vacancies.c.id)).scalars())
    assert kept == {"t-1", "t-2"} and not kept & demo_ids


def test_re_ingesting_the_demo_itself_replaces_nothing(engine: Engine) -> None:
    from importlib import resources

    from vacrec.learning import ensure_catalog
    from vacrec.store.ingest import DEMO_SOURCE

    ensure_catalog(engine)
    demo = _count(engine)
    path = resources.files("vacrec.catalog").joinpath("demo/vacancies.jsonl")
    with resources.as_file(path) as file:
        again = ingest_paths(engine, [file], source=DEMO_SOURCE)
    assert again.replaced_demo is False and again.deleted == 0 and _count(engine) == demo
