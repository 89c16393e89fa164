"""The migrations build exactly the schema that ``tables.py`` declares."""

from __future__ import annotations

import subprocess
import sys
import threading

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, func, insert, inspect, select, text

from vacrec.store.db import make_engine, migrate, read_transaction, utcnow
from vacrec.store.tables import catalog_versions, metadata


def test_migrated_database_matches_the_table_definitions(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_migrate_is_idempotent(engine: Engine) -> None:
    migrate(engine)
    assert set(metadata.tables) <= set(inspect(engine).get_table_names())


def test_sqlite_runs_in_wal_mode(sqlite_engine: Engine) -> None:
    with sqlite_engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_concurrent_migrations_on_a_fresh_database_all_succeed(database_url: str) -> None:
    # Several workers or replicas start at once against an empty database. They are
    # processes, as in production (Alembic's context is process-global, not per thread).
    script = "import sys; from vacrec.store.db import make_engine, migrate; " \
             "migrate(make_engine(sys.argv[1]))"  # fmt: skip
    workers = [
        subprocess.Popen([sys.executable, "-c", script, database_url], stderr=subprocess.PIPE)
        for _ in range(4)
    ]
    failures = [w.stderr.read().decode() for w in workers if w.wait(timeout=120) != 0]
    assert failures == []
    engine = make_engine(database_url)
    assert set(metadata.tables) <= set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    engine.dispose()


def test_a_long_read_transaction_does_not_block_writers(sqlite_engine: Engine) -> None:
    finished = threading.Event()

    def write() -> None:
        with sqlite_engine.begin() as conn:
            conn.execute(
                insert(catalog_versions).values(
                    created_at=utcnow(), source="t", inserted=0, updated=0, vacancies=0
                )
            )
        finished.set()

    with read_transaction(sqlite_engine) as reader:
        assert reader.execute(select(func.count()).select_from(catalog_versions)).scalar() == 0
        writer = threading.Thread(target=write)
        writer.start()
        assert finished.wait(timeout=10), "the writer waited for the reader"
        # The reader still sees its own snapshot.
        assert reader.execute(select(func.count()).select_from(catalog_versions)).scalar() == 0
    writer.join()


def test_migration_0002_names_the_industry_of_every_existing_reward(database_url: str) -> None:
    """Legacy rows get the name their index has in today's sorted group list; event-tied rows
    their event's industry."""
    from alembic import command

    from vacrec.store.db import alembic_config
    from vacrec.store.tables import events, feedback, vacancies, vacancy_industries

    engine = make_engine(database_url)
    try:
        command.upgrade(alembic_config(engine), "0001")
        groups = ["Юристы", "Искусство", "Маркетинг"]  # sorted: Искусство, Маркетинг, Юристы
        with engine.begin() as conn:
            conn.execute(
                insert(catalog_versions).values(
                    version=1, created_at=utcnow(), source="t", inserted=3, updated=0, vacancies=3
                )
            )
            for i, group in enumerate(groups):
                conn.execute(
                    insert(vacancies).values(
                        id=f"v{i}", name="n", description="d", industries=[group],
                        industry_inferred=False, content_hash="h", catalog_version=1,
                    )
                )  # fmt: skip
                conn.execute(insert(vacancy_industries).values(vacancy_id=f"v{i}", industry=group))
            conn.execute(
                insert(events).values(
                    id="e1", created_at=utcnow(), age=30, skill="живопись", preference="",
                    action=0, industry="Искусство", propensity=1.0, explore=False,
                    catalog_version=1, shown=[], source="api",
                )
            )  # fmt: skip
            # Rows as version 0001 wrote them: no industry column yet.
            conn.execute(
                text(
                    "INSERT INTO feedback (event_id, created_at, age, skill, action, cum_reward, "
                    "reward, legacy) VALUES (:e, :t, 30, 'живопись', :a, 1, 0.76, :l)"
                ),
                [
                    {"e": None, "t": utcnow(), "a": 1, "l": True},
                    {"e": "e1", "t": utcnow(), "a": 0, "l": False},
                ],
            )

        migrate(engine)

        with engine.connect() as conn:
            rows = conn.execute(
                select(feedback.c.event_id, feedback.c.industry).order_by(feedback.c.id)
            ).all()
        assert [tuple(r) for r in rows] == [(None, "Маркетинг"), ("e1", "Искусство")]
    finally:
        engine.dispose()


def test_migration_0005_keeps_the_promotion_history_and_its_downgrade_drops_prior_rows(
    database_url: str,
) -> None:
    """Promotions written before 0005 survive it (SQLite rebuilds the table), a row naming no
    model (the content prior) is accepted after it, and a downgrade removes only those."""
    from alembic import command

    from vacrec.store.db import alembic_config
    from vacrec.store.tables import model_promotions, models

    engine = make_engine(database_url)
    try:
        command.upgrade(alembic_config(engine), "0004")
        with engine.begin() as conn:
            conn.execute(
                insert(models).values(
                    version=1, created_at=utcnow(), weights=b"w", checksum="c", meta={}
                )
            )
            conn.execute(
                insert(model_promotions).values(
                    version=1, promoted_at=utcnow(), reason="r", kind="promote"
                )
            )
        migrate(engine)
        with engine.begin() as conn:
            conn.execute(
                insert(model_promotions).values(
                    version=None, promoted_at=utcnow(), reason="prior", kind="promote"
                )
            )
            rows = conn.execute(
                select(model_promotions.c.version).order_by(model_promotions.c.id)
            ).scalars()
            assert list(rows) == [1, None]
        command.downgrade(alembic_config(engine), "0004")
        with engine.connect() as conn:
            rows = conn.execute(select(model_promotions.c.version)).scalars()
            assert list(rows) == [1]
    finally:
        engine.dispose()


def test_migration_0007_counts_existing_postings_as_seen_when_they_were_written(
    database_url: str,
) -> None:
    """An existing store (old 2023 postings, ingested recently) keeps serving after the
    upgrade: last_seen_at is its catalog version's time, never the publication date."""
    from datetime import timedelta

    from alembic import command

    from vacrec.domain import as_utc
    from vacrec.store.db import alembic_config
    from vacrec.store.tables import vacancies

    engine = make_engine(database_url)
    written = utcnow() - timedelta(days=2)
    try:
        command.upgrade(alembic_config(engine), "0005")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO catalog_versions (version, created_at, source, inserted, "
                    "updated, vacancies) VALUES (1, :t, 'xlsx', 2, 0, 2)"
                ),
                {"t": written},
            )
            for i in range(2):
                conn.execute(
                    text(
                        "INSERT INTO vacancies (id, name, description, published_at, industries, "
                        "industry_inferred, content_hash, catalog_version) VALUES "
                        "(:id, 'n', 'd', :p, '[]', false, 'h', 1)"
                    ),
                    {"id": f"v{i}", "p": utcnow() - timedelta(days=1000)},
                )
        migrate(engine)
        with engine.connect() as conn:
            rows = conn.execute(
                select(vacancies.c.last_seen_at, vacancies.c.retired_at).order_by(vacancies.c.id)
            ).all()
        assert [r.retired_at for r in rows] == [None, None]
        for row in rows:
            assert abs(as_utc(row.last_seen_at) - written) < timedelta(seconds=1)
        command.downgrade(alembic_config(engine), "0005")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM vacancies")).scalar() == 2
    finally:
        engine.dispose()
