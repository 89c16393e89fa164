"""The training lock excludes a second holder across connections, with a bounded wait."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import Engine

from vacrec.store.locks import LockTimeout, training_lock


def test_a_second_holder_waits_for_the_first(engine: Engine) -> None:
    order: list[str] = []
    first_holds = threading.Event()

    def first() -> None:
        with training_lock(engine, wait_s=5):
            order.append("first in")
            first_holds.set()
            time.sleep(0.6)
            order.append("first out")

    thread = threading.Thread(target=first)
    thread.start()
    assert first_holds.wait(5)
    with training_lock(engine, wait_s=5):
        order.append("second in")
    thread.join()
    assert order == ["first in", "first out", "second in"]


def test_the_wait_is_bounded_and_says_why(engine: Engine) -> None:
    with training_lock(engine, wait_s=5):
        started = time.monotonic()
        with pytest.raises(LockTimeout, match="another training"), training_lock(engine, 0.5):
            pass
        assert time.monotonic() - started < 3
    with training_lock(engine, wait_s=0):  # released: free again at once
        pass
