"""What every holder of a served value shares: refresh now, or poll in the background.

The catalog snapshot, the live model and the vote table are each a value a process swaps
when the store says it changed. How each one knows and loads is its own
(``refresh_if_changed``); starting, stopping and surviving a failing first load is this.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable

from vacrec.polling import Poller

log = logging.getLogger(__name__)


class PolledHolder(ABC):
    """A value kept fresh by ``refresh_if_changed``, called every ``poll_s`` once started."""

    load_on_start = True
    """Refresh once in :meth:`start` so the first request has the value; False for a holder
    that loaded it when made."""

    def __init__(self, name: str, poll_s: float, what: str, keeping: Callable[[], str]) -> None:
        self._what = what  # for the log line when the first load fails
        self._poller = Poller(name, poll_s, self.poll, keeping=keeping)

    @abstractmethod
    def refresh_if_changed(self) -> bool:
        """Load the stored value if it changed; True if the held one was swapped."""

    def poll(self) -> None:
        """One tick of the background thread."""
        self.refresh_if_changed()

    def start(self) -> None:
        """Load once now (unless loaded when made), then poll in the background."""
        if self.load_on_start:
            try:
                self.refresh_if_changed()
            except Exception:
                log.exception("could not load %s; will retry", self._what)
        self._poller.start()

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop polling and wait for the thread."""
        self._poller.stop(timeout)
