"""Ingest into real SQLite and PostgreSQL: counts, idempotence, versions, bad input."""

from __future__ import annotations

import fcntl
from contextlib import ExitStack
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from tests.catalog.factories import normalised, original_row, write_jsonl, write_xlsx
from vacrec.app.ingest import ingest_paths, save_serving_snapshot
from vacrec.app.snapshots import build_lock, load_snapshot
from vacrec.catalog.readers import CatalogFileError
from vacrec.store.catalog import catalog_identity, catalog_industries, current_catalog_version
from vacrec.store.db import make_engine, migrate
from vacrec.store.tables import catalog_versions, vacancies, vacancy_industries

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
    from vacrec.app.ingest import ensure_catalog

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

    from vacrec.app.ingest import DEMO_SOURCE, ensure_catalog

    ensure_catalog(engine)
    demo = _count(engine)
    path = resources.files("vacrec.catalog").joinpath("demo/vacancies.jsonl")
    with resources.as_file(path) as file:
        again = ingest_paths(engine, [file], source=DEMO_SOURCE)
    assert again.replaced_demo is False and again.deleted == 0 and _count(engine) == demo


def _snapshot(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    """Everything ingest writes, in a comparable order.

    ``published_at`` is left out: SQLite keeps the wall time and PostgreSQL the instant,
    so the two databases never agree on it, batches or not; ``last_seen_at`` is when the
    ingest ran.
    """
    columns = [c for c in vacancies.c if c.name not in ("published_at", "last_seen_at")]
    with engine.connect() as conn:
        rows = conn.execute(select(*columns).order_by(vacancies.c.id)).all()
        links = conn.execute(
            select(vacancy_industries).order_by(
                vacancy_industries.c.vacancy_id, vacancy_industries.c.industry
            )
        ).all()
        versions = conn.execute(
            select(
                catalog_versions.c.version,
                catalog_versions.c.inserted,
                catalog_versions.c.updated,
                catalog_versions.c.vacancies,
            ).order_by(catalog_versions.c.version)
        ).all()
    return {"vacancies": [tuple(r) for r in rows], "links": [tuple(r) for r in links],
            "versions": [tuple(r) for r in versions]}  # fmt: skip


def _mixed_catalog(count: int) -> list[object]:
    """Labelled rows of two groups, unlabelled rows, and duplicates by id and description."""
    rows: list[object] = []
    for i in range(count):
        groups = [] if i % 5 == 0 else [ART] if i % 2 else [IT]
        rows.append(normalised(i, groups))
        if i % 7 == 3:
            rows.append(normalised(1000 + i, [IT], description=normalised(i)["description"]))
        if i % 9 == 4:
            rows.append(normalised(i, [ART], name="Тот же id ещё раз"))
    rows.append("{broken")
    return rows


def test_small_batches_give_the_same_store_as_one_batch(engine: Engine, tmp_path: Path) -> None:
    """Compared with one batch on a SQLite file, on each database."""
    path = write_jsonl(tmp_path / "a.jsonl", _mixed_catalog(40))
    reference = make_engine(f"sqlite:///{tmp_path / 'one-batch.db'}")
    migrate(reference)

    whole = ingest_paths(reference, [path], batch_size=10_000)
    batched = ingest_paths(engine, [path], batch_size=3)

    timings = {"stage_seconds"}  # wall clock, not content
    assert {k: v for k, v in batched.as_dict().items() if k not in timings} == {
        k: v for k, v in whole.as_dict().items() if k not in timings
    }
    assert set(batched.stage_seconds) == {"staging", "inferring", "publishing"}
    assert batched.inferred == 8 and batched.skipped_duplicates == 10 and batched.rejected == 1
    assert _snapshot(engine) == _snapshot(reference)
    again = ingest_paths(engine, [path], batch_size=3)
    assert again.catalog_version is None and again.unchanged == whole.inserted
    assert _snapshot(engine) == _snapshot(reference)
    reference.dispose()


def test_duplicates_across_batch_boundaries_are_skipped(engine: Engine, tmp_path: Path) -> None:
    rows = [normalised(1), normalised(2),  # batch 1
            normalised(3), normalised(4, description=normalised(1)["description"]),  # batch 2
            normalised(2, name="Тот же id"), normalised(6)]  # batch 3  # fmt: skip
    report = ingest_paths(engine, [write_jsonl(tmp_path / "a.jsonl", rows)], batch_size=2)
    assert (report.inserted, report.skipped_duplicates) == (4, 2)
    with engine.connect() as conn:
        stored = dict(conn.execute(select(vacancies.c.id, vacancies.c.name)).all())
    assert sorted(stored) == ["t-1", "t-2", "t-3", "t-6"]
    assert stored["t-2"] == normalised(2)["name"]  # the first of the repeated id is kept


def test_a_failure_in_a_late_batch_leaves_the_store_as_it_was(
    engine: Engine, tmp_path: Path
) -> None:
    """Earlier batches were already written when the failure comes: all of them roll back."""
    ingest_paths(engine, [write_jsonl(tmp_path / "a.jsonl", [normalised(i) for i in range(5)])])
    before = _snapshot(engine)
    rows = [normalised(0, name="Изменённый")] + [normalised(i, [IT]) for i in range(10, 30)]
    path = write_jsonl(tmp_path / "b.jsonl", rows)
    with path.open("ab") as handle:
        handle.write(b'{"id": "late", "name": "\xff\xfe broken UTF-8"}\n')

    with pytest.raises(CatalogFileError, match="UTF-8"):
        ingest_paths(engine, [path], replace=True, batch_size=4)

    assert _snapshot(engine) == before
    with engine.connect() as conn:
        assert current_catalog_version(conn) == 1


def test_replace_with_small_batches_deletes_only_what_no_batch_had(
    engine: Engine, tmp_path: Path
) -> None:
    ingest_paths(engine, [write_jsonl(tmp_path / "a.jsonl", [normalised(i) for i in range(8)])])
    keep = [normalised(i) for i in (6, 1, 4, 0, 9)]
    report = ingest_paths(
        engine, [write_jsonl(tmp_path / "b.jsonl", keep)], replace=True, batch_size=2
    )
    assert (report.deleted, report.inserted, report.unchanged) == (4, 1, 4)
    with engine.connect() as conn:
        ids = sorted(conn.execute(select(vacancies.c.id)).scalars())
    assert ids == ["t-0", "t-1", "t-4", "t-6", "t-9"]
    assert _count(engine, vacancy_industries) == 5


def test_empty_store_gets_the_demo_catalog_once(engine: Engine) -> None:
    from vacrec.app.ingest import ensure_catalog
    from vacrec.store.catalog import catalog_industries, current_catalog_version

    ensure_catalog(engine)
    with engine.connect() as conn:
        version = current_catalog_version(conn)
        industries = catalog_industries(conn)
    assert version is not None and len(industries) >= 2
    ensure_catalog(engine)  # not empty any more: nothing is loaded again
    with engine.connect() as conn:
        assert current_catalog_version(conn) == version


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_ingest_holds_its_versions_snapshot_build_from_before_the_commit(
    engine: Engine, tmp_path: Path
) -> None:
    """A server noticing the new version must wait for the ingest's build, not race it."""
    rows = [normalised(i, [IT if i % 2 else ART]) for i in range(6)]
    with ExitStack() as reserved:
        report = ingest_paths(
            engine, [write_jsonl(tmp_path / "a.jsonl", rows)], reserve_snapshot=reserved
        )
        assert report.catalog_version is not None
        with engine.connect() as conn:
            lock = build_lock(engine, catalog_identity(conn, report.catalog_version))
        assert lock is not None
        assert _taken_elsewhere(lock.lock_file)  # another process would wait here
        save_serving_snapshot(engine)  # the ingest builds under the lock it holds
        assert _taken_elsewhere(lock.lock_file)
    assert not _taken_elsewhere(lock.lock_file)
    assert load_snapshot(engine).version == report.catalog_version  # mapped, as saved


def _taken_elsewhere(path: str) -> bool:
    """Whether another open file (as another process has) could not lock ``path`` now."""
    with open(path, "a") as other:
        try:
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(other, fcntl.LOCK_UN)
        return False
