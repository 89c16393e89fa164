"""heartbeats: one row per serving worker that /readyz commits

Revision ID: 0003
Revises: 0002

Reading ``SELECT 1`` says nothing about whether a write can commit (a full
disk, a read-only file or a held lock all let it pass); committing a tiny
upsert does.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "heartbeats",
        sa.Column("worker", sa.String(length=128), nullable=False),
        sa.Column("beat_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("worker", name=op.f("pk_heartbeats")),
    )


def downgrade() -> None:
    op.drop_table("heartbeats")
