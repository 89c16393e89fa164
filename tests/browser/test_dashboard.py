"""The dashboard in headless Chromium: real users apart from simulated ones, lines from the
first minutes on, and a loss curve that says what it means."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.browser.conftest import LiveServer, Tab, plain
from tests.service.test_dashboard import _event, _feedback, _model

REAL_EVENTS = 8  # over the last 40 minutes: the first hour of a new service
SIMULATED_EVENTS = 30  # all in one minute, as a quick `vacrec simulate` run
REAL_INDUSTRY = "ИТ"
SIMULATED_INDUSTRY = "Искусство"


@pytest.fixture(scope="module")
def seeded(live_server: LiveServer) -> dict[str, Any]:
    """Real and simulated traffic, and one trained (not promoted) model whose loss rises."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    with live_server.engine.begin() as conn:
        for i in range(REAL_EVENTS):
            at = now - timedelta(minutes=40 - 5 * i)
            event = _event(conn, at, REAL_INDUSTRY)
            _feedback(conn, event, at + timedelta(seconds=20), 1 if i % 2 else -1)
        for i in range(SIMULATED_EVENTS):
            at = now - timedelta(minutes=2, seconds=-i)
            event = _event(conn, at, SIMULATED_INDUSTRY, 1, source="simulator")
            _feedback(conn, event, at + timedelta(seconds=1), 3)
        curve = [1.0 / (i + 1) for i in range(30)] + [0.05 + 0.01 * i for i in range(70)]
        version = _model(
            conn,
            {
                "loss_curve": curve,
                "updates": 10 * len(curve),
                "ope": {
                    "candidate": {"dr": {"value": 0.12, "low": 0.02, "high": 0.2}},
                    "champion": {"dr": {"value": 0.2, "low": 0.1, "high": 0.3}},
                },
                "promotion": {
                    "promoted": False,
                    "champion": "content prior",
                    "reason": "DR gain -0.08: not above the champion",
                },
            },
        )
    return {"version": version}


def _open(tab: Tab, live_server: LiveServer) -> Any:
    page = tab.page
    page.goto(live_server.url + "/dashboard")
    page.wait_for_selector("body[data-ready=true]")
    return page


def test_real_users_by_default_simulated_one_click_away(
    tab: Tab, live_server: LiveServer, seeded: dict[str, Any]
) -> None:
    page = _open(tab, live_server)

    real = page.locator("button.origin[data-origin=real]")
    simulated = page.locator("button.origin[data-origin=simulated]")
    assert real.get_attribute("aria-pressed") == "true"
    assert plain(simulated.inner_text()).endswith(str(SIMULATED_EVENTS))
    assert str(SIMULATED_EVENTS) in page.locator("#origin-note").inner_text()
    assert [plain(s) for s in page.locator(".stat-value").all_inner_texts()[:2]] == [
        str(REAL_EVENTS),
        str(REAL_EVENTS),
    ]
    assert page.locator("#plot-actions .bar-label").all_text_contents() == [REAL_INDUSTRY]
    # Forty minutes of traffic is a line through several buckets, not one hourly dot.
    assert page.locator("#plot-reward svg path.series").count() == 1
    assert page.locator("#plot-reward svg circle.dot").count() >= 4
    assert page.locator("#plot-rate svg path.series").count() == 1

    simulated.click()
    assert simulated.get_attribute("aria-pressed") == "true"
    assert real.get_attribute("aria-pressed") == "false"
    assert [plain(s) for s in page.locator(".stat-value").all_inner_texts()[:2]] == [
        str(SIMULATED_EVENTS),
        str(SIMULATED_EVENTS),
    ]
    assert page.locator("#plot-actions .bar-label").all_text_contents() == [SIMULATED_INDUSTRY]
    # The simulation fits in a few minute buckets; even one bucket draws as a level line.
    assert page.locator("#plot-reward svg path.series").count() == 1
    assert "симулированные" in page.locator("#origin-note").inner_text().lower()


def test_loss_curve_says_what_it_means_and_models_show_the_champion(
    tab: Tab, live_server: LiveServer, seeded: dict[str, Any]
) -> None:
    page = _open(tab, live_server)

    assert page.locator("#plot-loss svg path.series").count() == 1
    note = page.locator("#loss-note")
    assert note.is_visible()
    assert "Double-DQN" in note.inner_text() and "DR" in note.inner_text()
    champion = page.locator(f'#plot-models .model[data-version="{seeded["version"]}"] .champion')
    assert champion.count() == 1
    assert "not above the champion" in champion.locator("title").text_content()
    assert page.locator("#models-note").is_visible()

    page.click("#lang-switch")
    assert "temporal-difference" in page.locator("#loss-note").inner_text()
    assert "champion (DR)" in page.locator("#plot-models .legend").inner_text()
