"""End to end in headless Chromium: the job seeker's page and the dashboard."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.browser.conftest import (
    CATALOG,
    XSS_TITLE,
    LiveServer,
    Tab,
    open_form,
    search,
    submit_unknown_skill,
)
from vacrec.store.tables import events, feedback

pytestmark = pytest.mark.browser

BY_ID = {row["id"]: row for row in CATALOG}
MARKUP_SINKS = re.compile(r"\.(inner|outer)HTML\s*[+]?=|insertAdjacentHTML|document\.write|eval\(")


def _text(value: str) -> str:
    """Collapse the no-break spaces Intl puts in numbers, for comparisons."""
    return " ".join(value.replace("\u00a0", " ").replace("\u202f", " ").split())


def _card(tab: Tab, vacancy_id: str) -> Any:
    return tab.page.locator(f'.card[data-id="{vacancy_id}"]')


def test_search_vote_send_confirms_and_stores_feedback(tab: Tab, live_server: LiveServer) -> None:
    page = tab.page
    data = search(tab, live_server)

    shown = [item["id"] for item in data["items"]]
    assert sorted(shown) == sorted(BY_ID)  # one industry of five: all shown, at most five
    assert page.locator("#cards .card").count() == len(shown)
    for vacancy_id in shown:
        title = _card(tab, vacancy_id).locator(".card-title").inner_text()
        assert title.replace("\u00a0↗", "") == BY_ID[vacancy_id]["name"]
    assert _text(_card(tab, "101").locator(".salary").inner_text()) == "85 000 ₽"
    assert _card(tab, "102").locator(".salary").inner_text() == "з/п не указана"
    link = _card(tab, "101").locator(".card-title a")
    assert link.get_attribute("href") == BY_ID["101"]["url"]
    assert link.get_attribute("target") == "_blank"
    assert "noopener" in link.get_attribute("rel").split()
    # No model yet: the content prior chose, and the page says so in plain words.
    assert page.locator("#why").is_visible()
    assert "Пока оценок мало" in page.locator("#why-note").inner_text()
    assert page.locator("#why-chart tbody tr").count() == 1  # the one industry

    assert page.locator("#send").is_disabled()  # nothing to send yet
    _card(tab, "101").locator(".vote.up").click()
    _card(tab, "103").locator(".vote.up").click()
    _card(tab, "104").locator(".vote.down").click()
    _card(tab, "104").locator(".vote.down").click()  # a second press takes the vote back
    assert _card(tab, "101").locator(".vote.up").get_attribute("aria-pressed") == "true"
    assert _card(tab, "104").locator(".vote.down").get_attribute("aria-pressed") == "false"
    _card(tab, "105").locator(".vote.down").click()
    _card(tab, "105").locator(".vote.up").click()  # switching sides keeps one vote
    assert _card(tab, "105").locator(".vote.down").get_attribute("aria-pressed") == "false"
    assert "3 из 5" in page.locator("#vote-hint").inner_text()

    page.click("#send")
    confirm = page.locator("#feedback-status.confirm")
    confirm.wait_for()
    assert "Подходит: 3, не подходит: 0." in confirm.inner_text()  # in votes, not reward
    assert page.locator("#send").is_disabled()
    assert page.locator(".vote").first.is_disabled()

    with live_server.engine.connect() as conn:
        row = conn.execute(select(feedback).where(feedback.c.event_id == data["event_id"])).one()
    assert row.cum_reward == 3
    assert row.reward == pytest.approx(math.tanh(3))
    assert row.legacy is False
    stored = json.dumps(row.votes)
    assert all(f'"{v}"' in stored for v in ("101", "103", "105")) and '"104"' not in stored


def test_vacancy_text_is_never_markup(tab: Tab, live_server: LiveServer) -> None:
    page = tab.page
    search(tab, live_server, preference="<script>alert(3)</script>")
    page.wait_for_load_state("networkidle")  # an injected <img> would have failed to load

    card = _card(tab, "102")
    assert card.locator(".card-title").inner_text() == XSS_TITLE
    assert page.locator('img[src="x"]').count() == 0
    assert page.locator("#cards img").count() == 0  # the catalog has no logos at all
    assert card.locator(".company").inner_text() == "Studio <b>bold</b>"
    assert page.locator("#cards b, #cards script").count() == 0
    assert card.locator("a").count() == 0  # a javascript: URL is not made a link
    assert tab.dialogs == []


def test_cards_that_miss_the_words_are_labelled_as_such(tab: Tab, live_server: LiveServer) -> None:
    page = tab.page
    data = search(tab, live_server, preference="акварель")
    matched = [item["id"] for item in data["items"] if item["matched"]]
    assert matched == ["101"]  # only the watercolour posting says "акварель"
    assert data["fallback"] is False
    # The industry has no more matches: the page says so rather than let the rest pass.
    note = page.locator("#fallback-note")
    assert note.is_visible()
    assert "совпадают только 1 из этих вакансий: других таких в этой отрасли нет" in (
        note.inner_text()
    )

    hit = _card(tab, "101")
    assert hit.locator(".relevance.unmatched").count() == 0
    assert _text(hit.locator(".relevance.matched").inner_text()) == "Совпадает с вашими словами"
    assert "unmatched" not in hit.get_attribute("class").split()
    others = [item["id"] for item in data["items"] if item["id"] != "101"]
    assert len(others) == 4
    for vacancy_id in others:
        card = _card(tab, vacancy_id)
        assert "unmatched" in card.get_attribute("class").split()
        assert card.locator(".relevance.matched").count() == 0
        assert card.locator(".relevance.unmatched").inner_text() == (
            "Не по вашему запросу — вакансия этой отрасли"
        )

    page.click("#lang-switch")
    assert _card(tab, others[0]).locator(".relevance.unmatched").inner_text() == (
        "Not matching your words — a vacancy in this industry"
    )
    assert _text(hit.locator(".relevance").inner_text()) == "Matches your words"
    assert note.inner_text().startswith("Only 1 of these vacancies match your words")


def test_no_match_at_all_says_so_above_the_cards(tab: Tab, live_server: LiveServer) -> None:
    page = tab.page
    data = search(tab, live_server, preference="бухгалтерия")
    assert data["fallback"] is True and not any(item["matched"] for item in data["items"])
    note = page.locator("#fallback-note")
    assert note.is_visible()
    assert "Ни одна вакансия этой отрасли не совпала с вашими словами" in note.inner_text()
    assert page.locator("#cards .card.unmatched").count() == len(data["items"])
    assert page.locator("#cards .relevance.matched").count() == 0

    # No words at all: nothing "failed to match", the cards are simply the newest.
    search(tab, live_server, preference="")
    assert "Вы не написали пожеланий" in note.inner_text()
    labels = page.locator("#cards .relevance.unmatched").all_inner_texts()
    assert labels and set(labels) == {"Вакансия этой отрасли"}
    assert "пожеланий вы не написали" in page.locator("#why-note").inner_text()


def test_client_and_api_errors_are_shown(tab: Tab, live_server: LiveServer) -> None:
    page = tab.page
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    open_form(tab, live_server)
    page.fill("#age", "5")
    page.select_option("#skill", index=1)
    page.click("#submit")
    error = page.locator("#form-error")
    assert error.is_visible() and "Возраст" in error.inner_text()
    assert page.locator("#age").get_attribute("aria-invalid") == "true"
    assert not any(u.endswith("/api/v1/recommendations") for u in requests)

    # A skill the server does not know (as from a stale page): its 422 reaches the user.
    page.fill("#age", "30")
    answer = submit_unknown_skill(page)
    message = answer.json()["detail"]
    assert "skill" in message
    error.filter(has_text=message).wait_for()
    assert page.locator("#results").is_hidden()


def test_language_switch_relabels_and_is_remembered(tab: Tab, live_server: LiveServer) -> None:
    page = tab.page
    search(tab, live_server)
    assert page.locator("html").get_attribute("lang") == "ru"
    assert page.locator("label[for=age]").inner_text() == "Возраст"

    page.click("#lang-switch")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("label[for=age]").inner_text() == "Age"
    assert page.locator("#submit").inner_text() == "Find vacancies"
    assert _card(tab, "102").locator(".salary").inner_text() == "salary not specified"
    assert "too few ratings to learn from yet" in page.locator("#why-note").inner_text()
    assert page.locator("#why-chart thead th").all_inner_texts()[1:] == [
        "Match with your words",
        "Learned from ratings",
    ]

    page.reload()
    page.locator("#skill option").nth(1).wait_for(state="attached")
    assert page.locator("label[for=skill]").inner_text() == "Skill"
    assert page.locator("#skill option").first.inner_text() == "— choose a skill —"
    page.click("#lang-switch")
    assert page.locator("label[for=skill]").inner_text() == "Навык"


def test_dashboard_plots_traffic_and_rewards(tab: Tab, live_server: LiveServer) -> None:
    client = live_server.client
    skill = client.get("/api/v1/skills").json()["skills"][0]
    for i, vote in enumerate((1, -1, None)):
        answer = client.post(
            "/api/v1/recommendations", json={"age": 20 + i, "skill": skill, "preference": ""}
        ).json()
        if vote is not None:
            votes = [{"vacancy_id": answer["items"][0]["id"], "vote": vote}]
            reply = client.post(
                "/api/v1/feedback", json={"event_id": answer["event_id"], "votes": votes}
            )
            assert reply.status_code == 200
    with live_server.engine.connect() as conn:
        n_events = conn.execute(select(func.count()).select_from(events)).scalar_one()
        n_feedback = conn.execute(select(func.count()).select_from(feedback)).scalar_one()

    page = tab.page
    page.goto(live_server.url + "/dashboard")
    page.wait_for_selector("body[data-ready=true]")

    stats = [_text(s) for s in page.locator(".stat-value").all_inner_texts()]
    assert stats[:2] == [str(n_events), str(n_feedback)]
    assert page.locator("#plot-reward svg circle").count() >= 1
    assert page.locator("#plot-rate svg circle").count() >= 1
    tips = page.locator("#plot-rate svg .dot title").all_text_contents()
    per_bucket = [tip.rsplit("(", 1)[1].rstrip(")").split("/") for tip in tips]
    assert sum(int(rated) for rated, _ in per_bucket) == n_feedback
    assert sum(int(served) for _, served in per_bucket) == n_events
    bars = page.locator("#plot-actions svg rect.hbar")
    assert bars.count() == 1  # one industry in the catalog
    assert page.locator("#plot-actions .bar-value").text_content() == str(n_events)
    # No trained model yet: those two plots say so instead of drawing nothing.
    assert page.locator("#plot-models .empty-state").is_visible()
    assert page.locator("#plot-loss .empty-state").is_visible()


def test_static_route_serves_only_our_files(live_server: LiveServer) -> None:
    client = live_server.client
    for name in ("common.js", "app.js", "dashboard.js"):
        script = client.get(f"/static/{name}")
        assert script.status_code == 200
        assert script.headers["content-type"].startswith("text/javascript")
        # Data goes in through textContent only: no HTML parsing of strings anywhere.
        assert not MARKUP_SINKS.search(script.text), name
    assert client.get("/static/style.css").headers["content-type"].startswith("text/css")
    for name in ("..%2Fui.py", "ui.py", "templates", "..%2F..%2Fconfig.py"):
        assert client.get(f"/static/{name}").status_code == 404
    page = client.get("/")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
