"""The live Q-model of this process, swapped atomically when the registry promotes another.

Serving reads ``holder.current`` once per request; a background thread polls the
registry (a cheap query) and, when the live version changes, loads the new model
*before* replacing the reference. A request in flight keeps the model it
started with, so a swap never fails one. A model the registry refuses to load
(another encoding, damaged weights) leaves the previous one serving, and the
reason is logged and reported by ``/api/v1/model``. No model at all means the
content prior serves. Every switch is one INFO line naming both versions and
the reason recorded with the promotion, so a worker's log explains what it served.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine

from vacrec.agent.policy import QModel
from vacrec.app.holders import PolledHolder
from vacrec.app.registry import ModelRefused, live_version, load_live_model
from vacrec.store.db import read_transaction, utcnow
from vacrec.store.model_rows import newest_promotion

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Refusal:
    version: int | None
    reason: str
    at: datetime


class ModelHolder(PolledHolder):
    """Holds the live :class:`QModel` (or None: the content prior) for one process."""

    def __init__(self, engine: Engine, poll_s: float) -> None:
        self._engine = engine
        self._model: QModel | None = None
        self._loaded_at: datetime | None = None
        self._seen: int | None = None
        self._polled = False
        self.refusal: Refusal | None = None
        self._refresh_lock = threading.Lock()
        super().__init__("model poll", poll_s, "the live model", lambda: _name(self._model))

    @property
    def current(self) -> QModel | None:
        """The model to serve this request with (one atomic reference read)."""
        return self._model

    @property
    def loaded_at(self) -> datetime | None:
        return self._loaded_at

    def refresh_if_changed(self) -> bool:
        """Load the live model if the registry promoted another; True if it swapped."""
        with self._refresh_lock:
            with read_transaction(self._engine) as conn:
                version = live_version(conn)
                if self._polled and version == self._seen:
                    return False
                self._polled = True
                why = _promotion_reason(conn)
                if version is None:
                    swapped = self._model is not None
                    self._install(None, why)
                    self._seen = version
                    return swapped
                try:
                    model = load_live_model(conn)
                except ModelRefused as refused:
                    self._seen = version  # do not retry (and log) the same refusal every poll
                    self.refusal = Refusal(version, str(refused), utcnow())
                    log.warning(
                        "model %s refused, keeping version %s: %s",
                        version,
                        self._model.version if self._model else None,
                        refused,
                    )
                    return False
            self._seen = version
            swapped = model is not self._model
            self._install(model, why)
            return swapped

    def _install(self, model: QModel | None, why: str) -> None:
        """Swap the reference; log the switch (once, only when what serves changes)."""
        before, after = _name(self._model), _name(model)
        self._model = model
        self._loaded_at = utcnow()
        if model is not None:
            self.refusal = None
        if after != before:
            log.info("serving %s instead of %s (%s)", after, before, why)


def _name(model: QModel | None) -> str:
    return "the content prior" if model is None else f"model version {model.version}"


def _promotion_reason(conn: Connection) -> str:
    """Why the live version is live; read in the same transaction as the version itself."""
    row = newest_promotion(conn)
    return "no model is promoted in the registry" if row is None else f"{row.kind}: {row.reason}"
