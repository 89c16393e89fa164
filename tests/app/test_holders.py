"""What every holder shares: a first load that fails is logged and retried by the poller."""

from __future__ import annotations

import logging
import threading

import pytest

from vacrec.app.holders import PolledHolder


class _Flaky(PolledHolder):
    """Fails its first load, then counts the polls that reach it."""

    def __init__(self, load_on_start: bool = True, poll_s: float = 0.01) -> None:
        self.load_on_start = load_on_start
        self.calls = 0
        self.polled_again = threading.Event()
        super().__init__("flaky poll", poll_s, "the flaky value", lambda: "the old value")

    def refresh_if_changed(self) -> bool:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("database down")
        self.polled_again.set()
        return True


def test_a_failed_first_load_is_logged_and_the_poller_retries(
    caplog: pytest.LogCaptureFixture,
) -> None:
    holder = _Flaky()
    with caplog.at_level(logging.ERROR, logger="vacrec.app.holders"):
        holder.start()  # does not raise: the process starts serving what it has
    try:
        assert "could not load the flaky value; will retry" in caplog.text
        assert holder.polled_again.wait(timeout=30)
    finally:
        holder.stop()


def test_a_holder_loaded_when_made_does_not_load_again_on_start() -> None:
    holder = _Flaky(load_on_start=False, poll_s=3600)  # the poller will not tick in this test
    holder.start()
    try:
        assert holder.calls == 0
    finally:
        holder.stop()
    assert _Flaky(poll_s=3600).load_on_start  # the default: load once on start
