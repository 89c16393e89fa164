"""A SQLite file that becomes read-only under a running server: 503s naming the cause, and
serving recovers by itself, with no restart, the moment the file is writable again;
`vacrec serve` refuses a read-only store with one line, no traceback.

The file is made immutable (``chattr +i``), which stops even root, whom ``chmod`` does
not: what SQLite then meets is what it meets on a read-only mount (an I/O error from a
connection already open, a read-only connection from a new one). Where ``chattr`` is not
permitted (no CAP_LINUX_IMMUTABLE) these tests are skipped.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.live_server import serve_in_thread
from tests.serve_process import free_port, vacrec_env
from tests.service.conftest import seed_catalog
from vacrec.config import Settings
from vacrec.service.app import create_app
from vacrec.store.db import make_engine, migrate

REC = {"age": 30, "skill": "акварель"}


def _chattr(flag: str, paths: list[Path]) -> None:
    subprocess.run(["chattr", flag, *map(str, paths)], check=True, capture_output=True)


@pytest.fixture
def can_freeze(tmp_path: Path) -> None:
    probe = tmp_path / "probe"
    probe.touch()
    try:
        _chattr("+i", [probe])
        _chattr("-i", [probe])
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("chattr +i is not permitted here, and chmod does not stop root")


@contextmanager
def read_only(paths: list[Path]) -> Iterator[None]:
    """The files immutable until the block ends (also when it fails)."""
    _chattr("+i", paths)
    try:
        yield
    finally:
        _chattr("-i", paths)


def _seeded(sqlite_url: str, tmp_path: Path) -> Path:
    engine = make_engine(sqlite_url)
    migrate(engine)
    seed_catalog(engine, tmp_path)
    engine.dispose()
    return Path(sqlite_url.removeprefix("sqlite:///"))


def test_a_read_only_file_gives_503s_and_serving_recovers_without_restart(
    can_freeze: None, sqlite_url: str, tmp_path: Path
) -> None:
    path = _seeded(sqlite_url, tmp_path)
    settings = Settings(
        home=tmp_path / "home", database_url=sqlite_url, db_timeout_s=1.0, ready_write_every_s=0
    )
    app = create_app(settings)
    with serve_in_thread(app) as url, httpx.Client(base_url=url) as client:
        assert client.post("/api/v1/recommendations", json=REC).status_code == 200
        wal = path.with_name(path.name + "-wal")  # -shm stays: it is memory-mapped
        with read_only([path, wal]):
            during = [client.post("/api/v1/recommendations", json=REC) for _ in range(3)]
            # Connections opened while the file is read-only (as a restarted worker's
            # are) are read-only for good: SQLite never upgrades them.
            app.state.engine.dispose()
            during += [client.post("/api/v1/recommendations", json=REC) for _ in range(3)]
            ready = client.get("/readyz")
        after = client.post("/api/v1/recommendations", json=REC)  # the very next request
        again = [client.post("/api/v1/recommendations", json=REC) for _ in range(5)]
        ready_after = client.get("/readyz")
    assert [r.status_code for r in during] == [503] * 6
    causes = {r.json()["detail"] for r in during}
    assert all("read-only" in c or "I/O error" in c for c in causes), causes
    assert ready.status_code == 503
    assert after.status_code == 200
    assert [r.status_code for r in again] == [200] * 5
    assert ready_after.status_code == 200


def test_serve_refuses_a_read_only_store_with_one_line(
    can_freeze: None, sqlite_url: str, tmp_path: Path
) -> None:
    path = _seeded(sqlite_url, tmp_path)
    env = vacrec_env(tmp_path / "home", sqlite_url)
    command = [sys.executable, "-m", "vacrec.cli", "serve", "--port", str(free_port())]
    with read_only([path]):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, done.stderr
    assert "cannot serve" in errors[0] and str(path) in errors[0]
    assert "read-only" in errors[0], errors[0]
