"""model_promotions may name no model: the content prior

Revision ID: 0005
Revises: 0004

An operator must be able to return serving to the content prior at any time
(`vacrec model promote prior`), and a rollback must be able to walk back past
the first promoted model to it. A promotion row whose ``version`` is NULL says
"the content prior serves from here on"; every replica's model poll reads it
like any other promotion. The foreign key stays: a non-NULL version must still
name a stored model.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    # PostgreSQL drops NOT NULL in place; SQLite rebuilds the table (batch mode, env.py).
    with op.batch_alter_table("model_promotions") as batch:
        batch.alter_column("version", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    # Rows naming the prior cannot survive NOT NULL; without them the newest model
    # promotion decides what is live again, which is what this schema could express.
    op.execute("DELETE FROM model_promotions WHERE version IS NULL")
    with op.batch_alter_table("model_promotions") as batch:
        batch.alter_column("version", existing_type=sa.Integer(), nullable=False)
