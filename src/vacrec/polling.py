"""One background poller for every value a serving process keeps fresh.

The catalog snapshot and the live model are both immutable values that a
process swaps when the store says they changed. The swapping is theirs; the
thread that asks every few seconds, survives a failing poll and stops
cleanly is this.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Poller:
    """Calls ``poll`` every ``interval_s`` seconds in a daemon thread until stopped.

    A poll that raises is logged and tried again next time: the holder keeps
    serving what it has (a database outage must never kill the thread).
    """

    def __init__(
        self,
        name: str,
        interval_s: float,
        poll: Callable[[], object],
        keeping: Callable[[], str] = lambda: "the current value",
    ) -> None:
        self._name = name
        self._interval_s = interval_s
        self._poll = poll
        self._keeping = keeping  # what stays in use when a poll fails, for the log line
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start polling (again); a running poller is left alone."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = 5.0) -> None:
        """Ask the thread to finish and wait for it (at most ``timeout`` seconds)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            try:
                self._poll()
            except Exception:
                log.exception("%s: poll failed; keeping %s", self._name, self._keeping())
