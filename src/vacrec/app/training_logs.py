"""The logged transitions training and evaluation read: the store's rows, chunk by chunk,
through the agent's :class:`~vacrec.agent.transitions.TransitionBuilder`.

Which rows enter (simulated events, legacy feedback, a window of the newest) is chosen
here; what a transition is, is the agent's.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection

from vacrec.agent.context import ContextEncoder
from vacrec.agent.model_meta import TrainingWindow
from vacrec.agent.transitions import LoggedRequest, TransitionBuilder, Transitions
from vacrec.store.logged_requests import (
    CHUNK_ROWS,
    LogRead,
    legacy_feedback,
    requests_with_feedback,
)

__all__ = ["load_transitions"]


def _legacy_requests(rows: Iterable[Any]) -> list[LoggedRequest]:
    """Legacy feedback rows as requests: no preference was logged, the propensity is unknown."""
    return [
        LoggedRequest(
            age=row.age,
            skill=row.skill,
            preference="",
            industry=row.industry or "",  # by name, as written (migration 0002)
            propensity=float("nan"),
            reward=row.reward,
            created_at=row.created_at,
            client=row.client,
        )
        for row in rows
    ]


def load_transitions(
    conn: Connection,
    encoder: ContextEncoder,
    include_simulated: bool = False,
    include_legacy: bool = False,
    window: TrainingWindow | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> Transitions:
    """Events with their feedback (and, if asked, legacy feedback after them) as transitions,
    read ``chunk_rows`` at a time; ``window`` keeps the newest rated events only."""
    builder = TransitionBuilder(encoder)
    read = LogRead(include_simulated, window or TrainingWindow(), chunk_rows)
    for chunk in requests_with_feedback(conn, read):
        builder.add(chunk)
    if include_legacy:
        for chunk in legacy_feedback(conn, read):
            builder.add(_legacy_requests(chunk), terminal=True)
    return builder.build()
