"""catalog_versions.published: an ingest's new vacancies are written before they are seen

Revision ID: 0009
Revises: 0008

A 30,000-row ingest published in one transaction held SQLite's write lock for 4-6 s, past
the 2.4 s a serving write waits. The ingest now writes its new vacancies under a version
not yet published, in short transactions that no reader sees (store/visibility.py), and
publishes the version in one small transaction. Every existing version is published.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"


def upgrade() -> None:
    op.add_column(
        "catalog_versions",
        sa.Column("published", sa.Boolean(), nullable=False, server_default=sa.true()),
    )


def downgrade() -> None:
    # Unpublished rows would become visible: delete them (a crashed ingest's) first. A plain
    # DROP COLUMN (SQLite >= 3.35): a batch copy would drop the table vacancies refer to.
    op.execute(
        "DELETE FROM vacancy_industries WHERE vacancy_id IN (SELECT id FROM vacancies WHERE "
        "catalog_version IN (SELECT version FROM catalog_versions WHERE NOT published))"
    )
    op.execute(
        "DELETE FROM vacancies WHERE catalog_version IN "
        "(SELECT version FROM catalog_versions WHERE NOT published)"
    )
    op.execute("DELETE FROM catalog_versions WHERE NOT published")
    op.drop_column("catalog_versions", "published")
