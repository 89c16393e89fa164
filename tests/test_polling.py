"""The background poller: keeps polling through failures, stops when asked."""

from __future__ import annotations

import threading
import time

import pytest

from vacrec.polling import Poller


def test_a_failing_poll_is_logged_and_polling_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []
    third = threading.Event()

    def poll() -> None:
        calls.append(len(calls))
        if len(calls) == 1:
            raise RuntimeError("database unreachable")
        if len(calls) >= 3:
            third.set()

    poller = Poller("test-poller", 0.01, poll, keeping=lambda: "version 7")
    poller.start()
    poller.start()  # a second start does not add a second thread
    try:
        assert third.wait(5)
    finally:
        poller.stop()
    assert "test-poller: poll failed; keeping version 7" in caplog.text
    assert sum(t.name == "test-poller" for t in threading.enumerate()) == 0


def test_stop_ends_polling() -> None:
    calls: list[float] = []
    poller = Poller("test-stop", 0.01, lambda: calls.append(time.monotonic()))
    poller.start()
    time.sleep(0.1)
    poller.stop()
    seen = len(calls)
    time.sleep(0.1)
    assert seen > 0 and len(calls) == seen
