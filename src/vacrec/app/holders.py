"""What every holder of a served value shares: refresh now, or poll in the background.

The catalog snapshot, the live model and the vote table are each a value a process swaps
when the store says it changed. Starting, stopping and surviving a failing first load is
:class:`PolledHolder`; a value the store stamps cheaply (the catalog version, the votes'
newest row and count) is swapped the same way by :class:`StampedHolder`. The live model,
which may be refused, knows its own ``refresh_if_changed``.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Generic, TypeVar

from sqlalchemy import Connection, Engine

from vacrec.polling import Poller
from vacrec.store.db import read_transaction

log = logging.getLogger(__name__)

V = TypeVar("V")
S = TypeVar("S")


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


class StampedHolder(PolledHolder, Generic[V, S]):
    """A value swapped when the stamp the store keeps for it changes: a poll costs one small
    read of the stamp, and the value is loaded only when the stamp moved."""

    def __init__(
        self,
        engine: Engine,
        value: V,
        stamp: S,
        name: str,
        poll_s: float,
        what: str,
        keeping: Callable[[], str],
    ) -> None:
        self._engine = engine
        self._value, self._stamp = value, stamp
        self._swap_lock = threading.Lock()  # one load at a time: the poller and refresh()
        super().__init__(name, poll_s, what, keeping)

    @property
    def current(self) -> V:
        """The latest fully loaded value (one reference read: always consistent)."""
        return self._value

    @abstractmethod
    def read_stamp(self, conn: Connection) -> S:
        """The store's stamp of the value now."""

    @abstractmethod
    def load(self, stamp: S) -> tuple[V, S]:
        """The stored value, and the stamp it answers to, after the stamp read ``stamp``."""

    def refresh_if_changed(self) -> bool:
        """Load and swap when the store's stamp differs from the held one; True if swapped."""
        with self._swap_lock:
            with read_transaction(self._engine) as conn:
                stamp = self.read_stamp(conn)
            if stamp == self._stamp:
                return False
            self._value, self._stamp = self.load(stamp)
            return True
