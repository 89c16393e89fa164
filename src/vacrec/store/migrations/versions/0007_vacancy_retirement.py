"""vacancies remember when a collection last saw them and whether they are retired

Revision ID: 0007_vacancy_retirement
Revises: 0005

A catalog that stays open: `vacrec refresh` retires a posting hh.ru reports archived, or
one no collection or ingest has read for VACREC_RETIRE_AFTER_DAYS. Retired rows stay (events
and feedback name them) but leave the serving snapshot. Existing rows count as seen when
they were last written (their catalog version's time), never from ``published_at``: the
bundled demo and the 2023 sample are old postings that were ingested recently.
``catalog_refreshes`` logs each refresh (its queries, what it added and retired).
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_vacancy_retirement"
down_revision = "0006"


def upgrade() -> None:
    op.add_column("vacancies", sa.Column("last_seen_at", sa.DateTime(timezone=True)))
    op.add_column("vacancies", sa.Column("retired_at", sa.DateTime(timezone=True)))
    op.add_column("vacancies", sa.Column("retired_reason", sa.String(length=16)))
    op.execute(
        "UPDATE vacancies SET last_seen_at = (SELECT created_at FROM catalog_versions "
        "WHERE catalog_versions.version = vacancies.catalog_version)"
    )
    op.create_index("ix_vacancies_last_seen_at", "vacancies", ["last_seen_at"])
    op.create_table(
        "catalog_refreshes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("queries", sa.JSON(), nullable=False),
        sa.Column("collected", sa.Integer(), nullable=False),
        sa.Column("inserted", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("retired", sa.Integer(), nullable=False),
        sa.Column("catalog_version", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_refreshes")),
    )


def downgrade() -> None:
    # Retired postings come back into serving: this schema cannot tell them apart.
    op.drop_table("catalog_refreshes")
    op.drop_index("ix_vacancies_last_seen_at", table_name="vacancies")
    with op.batch_alter_table("vacancies") as batch:
        batch.drop_column("retired_reason")
        batch.drop_column("retired_at")
        batch.drop_column("last_seen_at")
