"""Rows the store's tests write: one place that knows every field a logged event needs."""

from __future__ import annotations

from vacrec.store import events as store
from vacrec.store.db import utcnow


def new_event(
    event_id: str, shown: tuple[str, ...] = ("a", "b"), preference: str = ""
) -> store.NewEvent:
    """An event served from catalog version 1 by the content prior (no model)."""
    return store.NewEvent(
        id=event_id,
        created_at=utcnow(),
        session_id=None,
        age=30,
        skill="акварель",
        preference=preference,
        action=0,
        industry="X",
        propensity=0.5,
        explore=True,
        model_version=None,
        catalog_version=1,
        shown=shown,
        source="test",
    )
