"""A fresh SQLite file is switched to WAL even when SQLite refuses the switch at once.

Openers racing on a fresh file deadlock on the lock the switch needs, and SQLite fails one of
them immediately, without its busy handler. A zero busy timeout reproduces that refusal
deterministically: every try fails at once while another connection holds the file.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from vacrec.store.db import _switch_to_wal


def _holder(path: Path) -> sqlite3.Connection:
    """A connection holding the file's exclusive lock, as a racing opener would."""
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    return holder


def _refusing_cursor(path: Path) -> sqlite3.Cursor:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA busy_timeout=0")
    return conn.cursor()


def test_the_switch_waits_out_an_immediate_refusal(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    holder = _holder(path)
    cursor = _refusing_cursor(path)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        cursor.execute("PRAGMA journal_mode=WAL")  # the refusal the retry is for

    release = threading.Timer(0.2, holder.rollback)
    release.start()
    started = time.monotonic()
    _switch_to_wal(cursor, deadline_s=10.0)
    release.join()

    assert time.monotonic() - started >= 0.15  # it did wait for the holder
    assert cursor.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_the_switch_gives_up_at_its_deadline(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    holder = _holder(path)
    cursor = _refusing_cursor(path)
    started = time.monotonic()
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        _switch_to_wal(cursor, deadline_s=0.3)
    waited = time.monotonic() - started
    holder.rollback()

    assert 0.1 <= waited <= 2.0  # bounded by the deadline, not forever and not at once
