"""A real vacrec server on loopback (uvicorn in a thread) over each real database."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from sqlalchemy import Engine, func, select

from tests.live_server import serve_in_thread
from vacrec.app.ingest import ingest_paths
from vacrec.config import Settings
from vacrec.store.db import make_engine, migrate
from vacrec.store.tables import events, feedback

if TYPE_CHECKING:
    from fastapi import FastAPI

ARTS = "Искусство, развлечения, масс-медиа"
IT = "Информационные технологии, интернет, телеком"
MARKETING = "Маркетинг, реклама, PR"
INDUSTRIES = (ARTS, IT, MARKETING)

_TOPICS = {
    ARTS: ["акварель живопись картины выставка", "театр декорации сцена роспись"],
    IT: ["игры геймдев персонажи unity", "интерфейсы сайт веб приложение"],
    MARKETING: ["реклама баннеры бренд соцсети", "упаковка этикетка логотип полиграфия"],
}


def catalog_rows() -> list[dict[str, Any]]:
    """Twelve vacancies, four per industry, each with words the others lack."""
    rows = []
    for g, industry in enumerate(INDUSTRIES):
        for i in range(4):
            topic = _TOPICS[industry][i % 2]
            rows.append(
                {
                    "id": f"{g}{i:02d}",
                    "name": f"Художник {g}-{i}",
                    "description": f"Ищем художника: {topic}. Проект {g}-{i}, команда.",
                    "industries": [industry],
                    "company": f"Студия {g}",
                    "salary": 50000 + 1000 * i,
                    "url": f"https://example.org/v/{g}{i:02d}",
                    "logo": f"https://example.org/logo/{g}.png" if i % 2 else None,
                    "area": "Москва",
                    "published_at": f"2024-0{i + 1}-01T10:00:00+03:00",
                }
            )
    return rows


def seed_catalog(engine: Engine, tmp_path: Path, rows: list[dict[str, Any]] | None = None) -> None:
    """Load a catalog through the real ingest path."""
    path = tmp_path / f"catalog-{time.monotonic_ns()}.jsonl"
    path.write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in rows or catalog_rows()) + "\n",
        encoding="utf-8",
    )
    ingest_paths(engine, [path])


@dataclass
class Server:
    """A running server: its base URL, settings, an engine for assertions, an HTTP client."""

    url: str
    settings: Settings
    engine: Engine
    client: httpx.Client


ServerFactory = Callable[..., Server]


SERVER_DEFAULTS: dict[str, Any] = {
    "epsilon": 0.1,
    "model_poll_s": 0.2,
    "catalog_poll_s": 0.2,
    # Tests send hundreds of requests from one address; tests/service/test_rate_limits.py
    # and test_steering.py cover the budgets and the client share themselves.
    "rate_limit_recommendations": "off",
    "rate_limit_rewards": "off",
    "train_max_client_share": 1.0,
    "rate_limit_dashboard": "off",
    # A 429 answers at once: the tests that provoke one assert its status and headers;
    # test_rate_limits.py sets the delay where the delay is what it proves.
    "rate_limit_delay_s": 0.0,
}
"""The settings of a test server, before a test's own."""


def _serve(
    servers: ExitStack, engine: Engine, database_url: str, home: Path, **overrides: Any
) -> Server:
    """Start a server on ``database_url`` (closed with ``servers``)."""
    values = {"home": home, "database_url": database_url, **SERVER_DEFAULTS, **overrides}
    settings = Settings(**values)
    from vacrec.service.app import create_app  # here, so store-only tests run alone

    url = servers.enter_context(serve_in_thread(create_app(settings)))
    client = servers.enter_context(httpx.Client(base_url=url, timeout=30))
    return Server(url=url, settings=settings, engine=engine, client=client)


@pytest.fixture
def make_server(database_url: str, tmp_path: Path) -> Iterator[ServerFactory]:
    """Start servers on the test's database; ``seed=False`` leaves the catalog empty."""
    engine = make_engine(database_url)
    migrate(engine)
    servers = ExitStack()
    seeded = False

    def start(seed: bool = True, **overrides: Any) -> Server:
        nonlocal seeded
        if seed and not seeded:
            seed_catalog(engine, tmp_path)
            seeded = True
        return _serve(servers, engine, database_url, tmp_path / "home", **overrides)

    with servers:
        yield start
    engine.dispose()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def refusing_server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    postgres_schemas: Callable[[], AbstractContextManager[str]],
) -> Iterator[Server]:
    """One server over the small seeded catalog, shared by a module's tests whose every
    request is refused (a 4xx): they store nothing, so they need no server of their own.
    At the end it checks that nothing was stored."""
    folder = tmp_path_factory.mktemp("refusing-server")
    with ExitStack() as stack:
        if request.param == "sqlite":
            database_url = f"sqlite:///{folder / 'vacrec.db'}"
        else:
            database_url = stack.enter_context(postgres_schemas())
        engine = make_engine(database_url)
        stack.callback(engine.dispose)
        migrate(engine)
        seed_catalog(engine, folder)
        yield _serve(stack, engine, database_url, folder / "home")
        with engine.connect() as conn:
            stored = {
                table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                for table in (events, feedback)
            }
        assert stored == {"events": 0, "feedback": 0}, "a refused request stored something"


AppStart = Callable[..., "tuple[FastAPI, httpx.Client]"]


@contextmanager
def live_apps(
    database_url: str, tmp_path: Path, timeout_s: float, **defaults: Any
) -> Iterator[AppStart]:
    """A seeded store, and ``start(**overrides)`` serving an app over it in a thread, for
    tests that reach into ``app.state`` (settings: ``defaults``, then ``overrides``)."""
    from vacrec.service.app import create_app  # here, so store-only tests run alone

    engine = make_engine(database_url)
    migrate(engine)
    seed_catalog(engine, tmp_path)
    stack = ExitStack()

    def start(**overrides: Any) -> tuple[FastAPI, httpx.Client]:
        values = {"home": tmp_path / "home", "database_url": database_url, **defaults}
        app = create_app(Settings(**values | overrides))
        url = stack.enter_context(serve_in_thread(app))
        return app, stack.enter_context(httpx.Client(base_url=url, timeout=timeout_s))

    with stack:
        yield start
    engine.dispose()


@pytest.fixture
def server(make_server: ServerFactory) -> Server:
    """A server over the small seeded catalog, no model (uniform exploration)."""
    return make_server()
