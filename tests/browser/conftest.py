"""Headless Debian Chromium (via Playwright) against a real vacrec server on loopback.

One server and one browser per test module keep the suite fast; every test
gets a fresh browser context (so no cookies or localStorage leak between
tests) and fails if any JavaScript dialog opens.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from tests.live_server import serve_in_thread
from vacrec.app.ingest import ingest_paths
from vacrec.config import Settings
from vacrec.store.db import make_engine, migrate

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTS = "Искусство, развлечения, масс-медиа"
XSS_TITLE = "<img src=x onerror=alert(1)>"

# One industry, five postings: whatever the untrained agent picks, all five are shown.
CATALOG: list[dict[str, Any]] = [
    {
        "id": "101",
        "name": "Иллюстратор детских книг",
        "description": "Рисовать иллюстрации к детским книгам: акварель, гуашь, удалённая работа.",
        "company": "Издательство «Рост»",
        "salary": 85000,
        "url": "https://hh.ru/vacancy/101",
        "logo": None,
    },
    {
        "id": "102",
        "name": XSS_TITLE,
        "description": "Художник по текстурам для мобильных игр, Photoshop и Substance.",
        "company": "Studio <b>bold</b>",
        "salary": None,
        "url": "javascript:alert(2)",
        "logo": None,
    },
    {
        "id": "103",
        "name": "Преподаватель рисования",
        "description": "Вести занятия рисованием для детей и взрослых в художественной студии.",
        "company": "Арт-студия",
        "salary": 45000,
        "url": "https://hh.ru/vacancy/103",
        "logo": None,
    },
    {
        "id": "104",
        "name": "Художник-декоратор театра",
        "description": "Роспись декораций для спектаклей, работа со сценографом.",
        "company": "Драмтеатр",
        "salary": 52000,
        "url": "https://hh.ru/vacancy/104",
        "logo": None,
    },
    {
        "id": "105",
        "name": "Реставратор живописи",
        "description": "Реставрация картин маслом в мастерской музея, опыт от трёх лет.",
        "company": "Музей",
        "salary": 70000,
        "url": "https://hh.ru/vacancy/105",
        "logo": None,
    },
]


def plain(value: str) -> str:
    """Collapse the no-break spaces Intl puts in numbers, for comparisons."""
    return " ".join(value.replace("\u00a0", " ").replace("\u202f", " ").split())


def ru_percent(share: float) -> str:
    """A 0–1 share as the Russian page writes it (after :func:`plain`): "21 %", "< 1 %"."""
    if 0 < share < 0.005:
        return "< 1 %"
    return f"{math.floor(share * 100 + 0.5)} %"


def ru_signed(value: float) -> str:
    """A signed value as the Russian page writes it: "+0,42", "−1,07", "0,00"."""
    digits = f"{abs(value):.2f}".replace(".", ",")
    if digits == "0,00":
        return digits
    return ("+" if value > 0 else "\u2212") + digits


@dataclass
class LiveServer:
    url: str
    engine: Engine
    client: httpx.Client
    settings: Settings


def _chromium_available() -> bool:
    return CHROMIUM.exists() and shutil.which(str(CHROMIUM)) is not None


def _seed(engine: Engine, folder: Path, catalog: list[dict[str, Any]]) -> None:
    """Load the catalog through the real ingest path."""
    path = folder / "catalog.jsonl"
    rows = [
        {"industries": [ARTS], "area": "Москва", "published_at": f"2024-05-{i + 1:02d}", **row}
        for i, row in enumerate(catalog)
    ]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    ingest_paths(engine, [path])


@pytest.fixture(scope="module")
def live_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """``create_app`` served by uvicorn on a free loopback port, over a seeded SQLite file.

    The catalog is the test module's ``CATALOG`` if it has one, else the one above.
    """
    from vacrec.service.app import create_app

    folder = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{folder / 'vacrec.db'}"
    engine = make_engine(url)
    migrate(engine)
    _seed(engine, folder, getattr(request.module, "CATALOG", CATALOG))
    settings = Settings(
        home=folder / "home", database_url=url, model_poll_s=0.2, catalog_poll_s=0.2
    )

    with (
        serve_in_thread(create_app(settings)) as base,
        httpx.Client(base_url=base, timeout=30) as client,
    ):
        yield LiveServer(url=base, engine=engine, client=client, settings=settings)
    engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module (never downloaded: Debian's package)."""
    if not _chromium_available():
        pytest.fail(f"{CHROMIUM} is not installed: run scripts/ensure-test-services")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@dataclass
class Tab:
    """A browser page plus the dialogs and JavaScript errors it produced."""

    page: Any
    dialogs: list[str]
    errors: list[str]


@pytest.fixture
def tab(browser: Any) -> Iterator[Tab]:
    """A fresh context (no localStorage carried over); dialogs and page errors fail the test."""
    context = browser.new_context(viewport={"width": 1100, "height": 900}, locale="ru-RU")
    context.set_default_timeout(15_000)
    current = Tab(page=context.new_page(), dialogs=[], errors=[])

    def on_dialog(dialog: Any) -> None:
        current.dialogs.append(dialog.message)
        dialog.dismiss()

    current.page.on("dialog", on_dialog)
    current.page.on("pageerror", lambda error: current.errors.append(str(error)))
    yield current
    context.close()
    assert current.dialogs == [], f"a dialog opened: {current.dialogs}"
    assert current.errors == [], f"JavaScript errors: {current.errors}"


def open_form(tab: Tab, server: LiveServer) -> None:
    tab.page.goto(server.url + "/")
    tab.page.locator("#skill option").nth(1).wait_for(state="attached")  # skills loaded


def search(
    tab: Tab, server: LiveServer, preference: str = "акварель удалённо", *, enter_in: str = ""
) -> dict[str, Any]:
    """Fill the form like a person would and return the API's answer the page received.

    The form is sent with a click on its button, or by Enter in the field ``enter_in``.
    """
    page = tab.page
    open_form(tab, server)
    page.fill("#age", "30")
    page.select_option("#skill", index=1)
    page.fill("#preference", preference)
    with page.expect_response(lambda r: r.url.endswith("/api/v1/recommendations")) as answer:
        if enter_in:
            page.press(enter_in, "Enter")
        else:
            page.click("#submit")
    assert answer.value.status == 200
    page.wait_for_selector("#cards .card")
    return answer.value.json()


def submit_unknown_skill(page: Any) -> Any:
    """Send the form with a skill the server does not know (as from a stale page); returns
    the API's answer (a 422)."""
    page.evaluate(
        """() => {
          const option = document.createElement("option");
          option.value = option.textContent = "не навык";
          document.getElementById("skill").append(option);
        }"""
    )
    page.select_option("#skill", "не навык")
    with page.expect_response(lambda r: r.url.endswith("/api/v1/recommendations")) as answer:
        page.click("#submit")
    assert answer.value.status == 422
    return answer.value
