"""Holding a group commit's writer thread busy, so that the writes submitted meanwhile
queue up for the next batch: how the tests make batches without timing anything."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from sqlalchemy import Connection

from vacrec.app.group_commit import CommitTimeout, GroupCommit

WAIT_S = 60.0  # generous bound for a test's own waits; the code's bounds are under test


@contextmanager
def writer_held(writes: GroupCommit) -> Iterator[None]:
    """The writer thread busy in a transaction of its own until the block ends, so that the
    writes submitted meanwhile queue up for the next batch (the hold goes on even when its
    own caller times out first)."""
    inside, release = threading.Event(), threading.Event()

    def hold(conn: Connection) -> None:
        inside.set()
        release.wait(WAIT_S)

    def holder() -> None:
        with suppress(CommitTimeout):
            writes.run(hold)

    thread = threading.Thread(target=holder)
    thread.start()
    assert inside.wait(WAIT_S)
    try:
        yield
    finally:
        release.set()
        thread.join(WAIT_S)


def wait_queued(writes: GroupCommit, count: int) -> None:
    """Until ``count`` writes wait in the queue (the threads submitting them are running)."""
    pause = threading.Event()
    for _ in range(int(WAIT_S / 0.01)):
        if writes.queued >= count:
            return
        pause.wait(0.01)
    raise AssertionError(f"{writes.queued} of {count} writes queued after {WAIT_S:g} s")
