"""Shared fixtures: real databases (a SQLite file, a PostgreSQL schema per test)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from vacrec.config import Settings
from vacrec.store.db import make_engine, migrate

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_XLSX = PROJECT_ROOT.parent / "shared" / "data" / "hh_artist_vacancies_2023.xlsx"
POSTGRES_ADMIN_URL = os.environ.get(
    "VACREC_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PROOF_FULL_ENV = "VACREC_PROOF_FULL"


@pytest.fixture(scope="session")
def proof_full() -> bool:
    """Whether the proofs (fuzz, load, kill -9) run at full length rather than CI length.

    ``VACREC_PROOF_FULL=1 pytest -s tests/service/test_fuzz.py tests/service/test_load.py
    tests/e2e/test_crash_recovery.py`` runs them for minutes instead of seconds.
    """
    return os.environ.get(PROOF_FULL_ENV, "").strip().lower() in ("1", "true", "yes")


@pytest.fixture
def shared_xlsx() -> Path:
    """The real 2023 sample, which lives beside the project (never copied into it)."""
    if not SHARED_XLSX.is_file():
        pytest.fail(
            f"the shared data is missing: expected {SHARED_XLSX} "
            "(clone the project next to the shared/ folder, as CI does)"
        )
    return SHARED_XLSX


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite file for one test."""
    return f"sqlite:///{tmp_path / 'vacrec.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL schema on the real server, dropped after the test."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES_ADMIN_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """Runs a test once on SQLite and once on PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return request.getfixturevalue(name)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A migrated engine on each real database."""
    eng = make_engine(database_url)
    migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    """A migrated engine on a SQLite file only (for tests where the backend is moot)."""
    eng = make_engine(sqlite_url)
    migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def settings(tmp_path: Path, sqlite_url: str) -> Settings:
    """Settings pointing at a temporary home and SQLite file."""
    return Settings(home=tmp_path / "home", database_url=sqlite_url)
