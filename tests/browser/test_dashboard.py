"""The dashboard in headless Chromium: real users apart from simulated ones, lines from the
first minutes on, and a loss curve that says what it means."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr

from tests.browser.conftest import LiveServer, Tab, plain
from tests.live_server import serve_in_thread
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


OPERATOR_TOKEN = "operator-token-for-the-browser-test"


def test_with_an_operator_token_the_page_asks_for_it_and_sends_it(
    tab: Tab, live_server: LiveServer, seeded: dict[str, Any]
) -> None:
    """The same store served with VACREC_ADMIN_TOKEN set: the page shell opens, the data
    only with the token, which the page asks for (no dialog) and keeps for the tab."""
    from vacrec.service.app import create_app

    settings = live_server.settings.model_copy(update={"admin_token": SecretStr(OPERATOR_TOKEN)})
    with serve_in_thread(create_app(settings)) as url:
        page = tab.page
        page.goto(url + "/dashboard")
        form = page.locator("#token-form")
        form.wait_for(state="visible")
        assert page.locator("body[data-ready=true]").count() == 0  # no data without it

        page.fill("#token", "not-the-token")
        page.click("#token-form button[type=submit]")
        page.locator("#load-error").wait_for(state="visible")
        assert form.is_visible()

        with page.expect_response(lambda r: r.url.endswith("/api/v1/dashboard")) as answer:
            page.fill("#token", OPERATOR_TOKEN)
            page.click("#token-form button[type=submit]")
        assert answer.value.status == 200
        assert answer.value.request.headers["authorization"] == f"Bearer {OPERATOR_TOKEN}"
        page.wait_for_selector("body[data-ready=true]")
        assert form.is_hidden() and page.locator("#load-error").is_hidden()
        assert page.locator("#plot-loss svg path.series").count() == 1

        page.reload()  # kept for the tab: no second prompt
        page.wait_for_selector("body[data-ready=true]")
        assert form.is_hidden()
