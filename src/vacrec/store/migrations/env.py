"""Alembic environment: runs migrations on the engine handed in by ``db.migrate``."""

from __future__ import annotations

from alembic import context

from vacrec.store.tables import metadata

engine = context.config.attributes["engine"]
# One transaction around reading the version and every migration: on SQLite its
# BEGIN IMMEDIATE holds the write lock from the first read, so a process starting at
# the same moment waits and then finds nothing to do. (Alembic's own transaction per
# migration for SQLite let two processes both read "no version" and both create tables.)
with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
