"""feedback.industry: the industry of a reward by name

Revision ID: 0002
Revises: 0001

Legacy rewards (``POST /api/write/`` without an event) stored only the action
index, which names another industry once an ingest inserts a group before it
in the sorted list. Existing legacy rows get the name their index has in the
catalog as it is now (the best that can be recovered); event-tied rows take
their event's industry.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.add_column("feedback", sa.Column("industry", sa.Text(), nullable=True))
    conn = op.get_bind()
    conn.execute(
        sa.text(
            "UPDATE feedback SET industry = "
            "(SELECT events.industry FROM events WHERE events.id = feedback.event_id) "
            "WHERE event_id IS NOT NULL"
        )
    )
    groups = [
        row[0]
        for row in conn.execute(
            sa.text("SELECT DISTINCT industry FROM vacancy_industries ORDER BY industry")
        )
    ]
    groups.sort()  # the same order as the action list (Python's, not the collation's)
    for action, name in enumerate(groups):
        conn.execute(
            sa.text(
                "UPDATE feedback SET industry = :name WHERE event_id IS NULL AND action = :action"
            ),
            {"name": name, "action": action},
        )


def downgrade() -> None:
    op.drop_column("feedback", "industry")
