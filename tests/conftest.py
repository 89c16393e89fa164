"""Shared fixtures: real databases (a SQLite file, a PostgreSQL schema per test).

The suite runs in parallel (``pytest -n``, pytest-xdist), so nothing here is shared between
worker processes but the encoder's term vectors (``shared_term_vectors``): each worker gets
its own PostgreSQL database (advisory locks, such as the training lock, are per database, so
one worker's training never blocks another's) and its own ``VACREC_HOME`` (the default
``./.vacrec`` would be one folder for all of them).
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.exc import OperationalError

from vacrec.config import Settings
from vacrec.store.db import make_engine, migrate

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path("shared") / "data" / "hh_artist_vacancies_2023.xlsx"


def _shared_xlsx() -> Path:
    """The real 2023 sample beside the project, or beside the repository this clone was made
    from (a clone in a temporary folder still finds it; it is never copied in)."""
    beside = PROJECT_ROOT.parent / SHARED_DATA
    if beside.is_file():
        return beside
    origin = subprocess.run(
        ["git", "-C", str(PROJECT_ROOT), "config", "--get", "remote.origin.url"],
        capture_output=True, text=True, check=False,
    ).stdout.strip()  # fmt: skip
    if origin and "://" not in origin and ":" not in origin.split("/")[0]:  # a local path
        from_origin = (PROJECT_ROOT / origin).resolve().parent / SHARED_DATA
        if from_origin.is_file():
            return from_origin
    return beside


SHARED_XLSX = _shared_xlsx()
POSTGRES_URL_ENV = "VACREC_TEST_POSTGRES_URL"
SERVER_URL_ENV = "VACREC_TEST_POSTGRES_SERVER_URL"
SERVER_POSTGRES_URL = os.environ.get(SERVER_URL_ENV) or os.environ.get(
    POSTGRES_URL_ENV, "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
"""The server's database as configured; the tests use a database of their own beside it.
(xdist workers inherit the controller's environment, where ``VACREC_TEST_POSTGRES_URL``
already names the controller's database: the configured one is kept aside for them.)"""
PROOF_FULL_ENV = "VACREC_PROOF_FULL"


def _process_database_name() -> str:
    """A database name of this test process alone: the xdist worker and a random suffix (two
    runs on one server, e.g. two checkouts, never share one either)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return f"vacrec_test_{worker}_{uuid.uuid4().hex[:8]}"


POSTGRES_ADMIN_URL = (
    make_url(SERVER_POSTGRES_URL)
    .set(database=_process_database_name())
    .render_as_string(hide_password=False)
)
"""This process's database; the per-test schemas live in it."""


BLAS_THREADS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
"""One BLAS/OpenMP thread in every test process and what it starts. The suite runs more
processes than the machine has cores: OpenBLAS's spinning threads then fight each other, and
the 512 × 512 eigen-decomposition of every snapshot build took 3–6 s on two threads against
0.1 s on one (load average 14, 2 cores)."""


def pytest_configure(config: pytest.Config) -> None:
    """Point the commands the tests start (``vacrec bench load --database postgres`` and the
    like read ``VACREC_TEST_POSTGRES_URL``) at this process's database, before any test module
    is imported; and set the BLAS threads before NumPy is loaded (xdist workers and the
    servers the tests start inherit both)."""
    os.environ[SERVER_URL_ENV] = SERVER_POSTGRES_URL
    os.environ[POSTGRES_URL_ENV] = POSTGRES_ADMIN_URL
    for name, value in BLAS_THREADS.items():
        os.environ.setdefault(name, value)


def _server_admin() -> Engine:
    return create_engine(SERVER_POSTGRES_URL, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session", autouse=True)
def process_database() -> Iterator[None]:
    """Create this process's PostgreSQL database; drop it (and any connection a killed
    subprocess left) at the end. Without a reachable server it does nothing, and only the
    PostgreSQL tests fail, naming the connection."""
    name = make_url(POSTGRES_ADMIN_URL).database
    admin = _server_admin()
    try:
        _create_database(admin, name)
    except OperationalError:
        admin.dispose()
        yield
        return
    try:
        yield
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _create_database(admin: Engine, name: str | None) -> None:
    """CREATE DATABASE, retried briefly: PostgreSQL refuses to copy the template while another
    session (another worker's CREATE DATABASE) is connected to it."""
    for attempt in range(20):
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            return
        except OperationalError as error:
            if "being accessed by other users" not in str(error) or attempt == 19:
                raise
            time.sleep(0.1 * (attempt + 1))


@pytest.fixture(scope="session", autouse=True)
def process_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A ``VACREC_HOME`` of this process for code that builds ``Settings()`` from the
    environment without a home (e.g. the snapshot cache of a PostgreSQL store), so no test
    writes into the checkout's ``.vacrec`` or shares it with another worker. Tests that set
    ``VACREC_HOME`` themselves still win."""
    previous = os.environ.get("VACREC_HOME")
    os.environ["VACREC_HOME"] = str(tmp_path_factory.mktemp("vacrec-home"))
    yield
    if previous is None:
        os.environ.pop("VACREC_HOME", None)
    else:
        os.environ["VACREC_HOME"] = previous


@pytest.fixture(scope="session", autouse=True)
def shared_term_vectors(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One folder of the encoder's term vectors for every worker and every process the tests
    start (``VACREC_TERM_VECTOR_FOLDER``), as an operator's servers share theirs: the catalog's
    words are encoded once per run, not once per test that builds a snapshot. The only thing
    shared between workers; it holds a pure function's results (saves are atomic).
    tests/app/test_term_vectors.py covers encoding into an empty folder."""
    run_folder = tmp_path_factory.getbasetemp()  # .../pytest-N, or .../pytest-N/popen-gwK
    if "PYTEST_XDIST_WORKER" in os.environ:
        run_folder = run_folder.parent
    folder = run_folder / "term-vectors"
    previous = os.environ.get("VACREC_TERM_VECTOR_FOLDER")
    os.environ["VACREC_TERM_VECTOR_FOLDER"] = str(folder)
    yield
    if previous is None:
        os.environ.pop("VACREC_TERM_VECTOR_FOLDER", None)
    else:
        os.environ["VACREC_TERM_VECTOR_FOLDER"] = previous


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
            "(clone the project next to the shared/ folder, as CI does, or from a "
            "repository that is)"
        )
    return SHARED_XLSX


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite file for one test."""
    return f"sqlite:///{tmp_path / 'vacrec.db'}"


@contextmanager
def fresh_postgres_schema() -> Iterator[str]:
    """The URL of a fresh PostgreSQL schema on the real server, dropped on exit."""
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


@pytest.fixture(scope="session")
def postgres_schemas() -> Callable[[], AbstractContextManager[str]]:
    """:func:`fresh_postgres_schema`, for fixtures of a wider scope than a test's."""
    return fresh_postgres_schema


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL schema on the real server, dropped after the test."""
    with fresh_postgres_schema() as url:
        yield url


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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the modules holding slow tests first (each module kept whole, in its order).

    xdist hands tests out in this order: the minute-long proofs start while the many short
    tests fill the other workers, instead of one of them starting last and running alone.
    Whole modules move so their module-scoped fixtures are still built once per worker.
    """
    slow_modules = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_modules)
