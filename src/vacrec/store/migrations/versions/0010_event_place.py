"""events keep the place and work format a request gave in its fields

Revision ID: 0010
Revises: 0009

The agent's context says how many of each industry's postings fit the place a seeker asked
for, and training encodes every logged request again: a place said in the words is in the
logged preference, but one given in the form's fields (``area``, ``work_format``) was not
stored, so training could not see what serving saw. Two nullable columns; rows stored before
this revision had none given in the fields, as far as training can know.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"


def upgrade() -> None:
    op.add_column("events", sa.Column("area", sa.Text(), nullable=True))
    op.add_column("events", sa.Column("work_format", sa.String(length=16), nullable=True))


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite >= 3.35): a batch copy would drop the table feedback refers to.
    op.drop_column("events", "work_format")
    op.drop_column("events", "area")
