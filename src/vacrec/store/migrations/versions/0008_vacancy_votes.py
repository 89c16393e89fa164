"""vacancy_votes: per-card votes summed per vacancy and seeker group

Revision ID: 0008
Revises: 0005

Cards inside the chosen industry are ordered by text relevance plus what the votes say
about each vacancy for seekers like this one. A job rebuilds these sums from the feedback
rows off the request path; serving replicas poll them, so all of them rank alike. No foreign
key to vacancies: a retired vacancy's votes are harmless and the job rebuilds them anyway.

``events.card_propensities``: when cards are randomised (``VACREC_CARD_SWAP``), each shown
card's exact probability of its position, so a new card ranker is evaluated per card.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007_vacancy_retirement"


def upgrade() -> None:
    op.create_table(
        "vacancy_votes",
        sa.Column("vacancy_id", sa.String(length=64), nullable=False),
        sa.Column("group_key", sa.String(length=160), nullable=False),
        sa.Column("up", sa.Integer(), nullable=False),
        sa.Column("down", sa.Integer(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("vacancy_id", "group_key", name=op.f("pk_vacancy_votes")),
    )
    op.add_column("events", sa.Column("card_propensities", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_column("card_propensities")
    op.drop_table("vacancy_votes")
