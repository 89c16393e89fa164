"""vacancies keep hh.ru's schedule and experience; stored text loses raw HTML entities

Revision ID: 0006
Revises: 0005

A seeker needs to know whether a job is remote and what experience it asks for, and a
place filter needs the schedule as data: two nullable columns holding hh.ru's ids
(``remote``, ``fullDay``, …; ``noExperience``, ``between1And3``, …). Rows stored before
this revision have none until their source is ingested again (its content hash then
differs, so ingest rewrites them).

The 2023 spreadsheet kept ``&quot;`` and ``&#39;`` in its plain text, and ingest stored
them as they came: cards showed "We&#39;re". Ingest now decodes entities and removes tags
from descriptions (``vacrec.catalog.text.clean_text``; a title or company keeps what looks
like a tag, as text); this revision does the same to the names,
descriptions and companies already stored, a page at a time. The saved serving snapshots
are rebuilt because the card code they were built with changed (their code fingerprint),
and a snapshot build cleans card text the same way.
"""

import sqlalchemy as sa
from alembic import op

from vacrec.catalog.text import clean_text

revision = "0006"
down_revision = "0005"

_PAGE = 1_000


def upgrade() -> None:
    # A plain ADD COLUMN on both databases: no table rewrite.
    op.add_column("vacancies", sa.Column("schedule", sa.String(length=32), nullable=True))
    op.add_column("vacancies", sa.Column("experience", sa.String(length=32), nullable=True))
    _decode_stored_text(op.get_bind())


def downgrade() -> None:
    # Decoded text stays decoded: it is what the source meant.
    with op.batch_alter_table("vacancies") as batch:
        batch.drop_column("experience")
        batch.drop_column("schedule")


def _decode_stored_text(conn: sa.Connection) -> None:
    """Clean every stored name, description and company holding ``&`` or ``<`` (keyset pages
    in id order, so updating between pages is safe on both databases)."""
    vacancies = sa.table(
        "vacancies",
        sa.column("id", sa.String),
        sa.column("name", sa.Text),
        sa.column("description", sa.Text),
        sa.column("company", sa.Text),
    )
    suspect = sa.or_(
        *(
            column.contains(mark, autoescape=True)
            for column in (vacancies.c.name, vacancies.c.description, vacancies.c.company)
            for mark in ("&", "<")
        )
    )
    last = None
    while True:
        query = sa.select(vacancies).where(suspect).order_by(vacancies.c.id).limit(_PAGE)
        if last is not None:
            query = query.where(vacancies.c.id > last)
        rows = conn.execute(query).all()
        if not rows:
            return
        changes = []
        for row in rows:
            values = {
                "name": _clean(row.name) or row.name,
                "description": clean_text(row.description)
                if clean_text(row.description).strip()
                else row.description,
                "company": _clean(row.company) if row.company is not None else None,
            }
            if values != {"name": row.name, "description": row.description, "company": row.company}:
                changes.append({"key": row.id, **values})
        if changes:
            conn.execute(
                vacancies.update()
                .where(vacancies.c.id == sa.bindparam("key"))
                .values(
                    name=sa.bindparam("name"),
                    description=sa.bindparam("description"),
                    company=sa.bindparam("company"),
                ),
                changes,
            )
        last = rows[-1].id


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    return clean_text(value, tags=False).strip() or None
