"""events and feedback remember which client identity sent them

Revision ID: 0004
Revises: 0003

Training caps one client's share of the rows it learns and judges from, and a
legacy write without an event id may only be tied to an event served to the
same client; both need the (hashed) identity on the rows. Rows logged before
this revision have none and are treated as coming from distinct clients.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    # A plain ADD COLUMN on both databases: no table rewrite, however long the log.
    op.add_column("events", sa.Column("client", sa.String(length=32), nullable=True))
    op.add_column("feedback", sa.Column("client", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("feedback") as batch:
        batch.drop_column("client")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("client")
