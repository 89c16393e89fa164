"""The page keeps one session per tab: rejected cards never come back, asking again shows
the next ones, and a reload keeps the answer with its unsent votes."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LiveServer, Tab, search

pytestmark = pytest.mark.browser

# One industry, twelve watercolour postings: enough for two answers of five and a rest.
CATALOG: list[dict[str, Any]] = [
    {
        "id": f"2{i:02d}",
        "name": f"Художник-акварелист {i}",
        "description": f"Акварель и иллюстрации для проекта номер {i}, удалённо.",
        "company": f"Студия {i}",
        "salary": 50_000 + 1_000 * i,
        "url": f"https://hh.ru/vacancy/2{i:02d}",
        "logo": None,
    }
    for i in range(12)
]


def _shown(tab: Tab) -> list[str]:
    return tab.page.locator("#cards .card").evaluate_all("cards => cards.map(c => c.dataset.id)")


def _reject_all_and_send(tab: Tab) -> None:
    page = tab.page
    for button in page.locator("#cards .vote.down").all():
        button.click()
    with page.expect_response(lambda r: r.url.endswith("/api/v1/feedback")) as sent:
        page.click("#send")
    assert sent.value.status == 200
    expect(page.locator("#feedback-status.confirm")).to_be_visible()


def _ask_again(tab: Tab) -> dict[str, Any]:
    page = tab.page
    with page.expect_response(lambda r: r.url.endswith("/api/v1/recommendations")) as answer:
        page.click("#submit")
    assert answer.value.status == 200
    body = answer.value.json()
    expect(page.locator("#cards .card").first).to_have_attribute("data-id", body["items"][0]["id"])
    return body


def test_rejecting_every_card_and_asking_again_shows_new_ones(
    tab: Tab, live_server: LiveServer
) -> None:
    first = search(tab, live_server, "акварель иллюстрации")
    assert first["session"] == {"rejected": 0, "shown_before": 0, "avoided": []}
    first_ids = _shown(tab)
    assert len(first_ids) == 5
    _reject_all_and_send(tab)
    assert "Отклонённые вакансии больше не покажем" in tab.page.inner_text("#feedback-status")

    second = _ask_again(tab)
    second_ids = _shown(tab)
    assert len(second_ids) == 5 and set(second_ids).isdisjoint(first_ids)
    assert second["session"]["rejected"] == 5
    note = tab.page.locator("#session-note")
    expect(note).to_contain_text("Вакансии, отмеченные «Не подходит» (5), больше не показываем.")

    tab.page.click("#lang-switch")
    expect(note).to_contain_text("5 vacancies you marked “Not for me” won't be shown again.")


def test_a_reload_keeps_the_answer_and_its_unsent_votes(tab: Tab, live_server: LiveServer) -> None:
    page = tab.page
    search(tab, live_server, "акварель")
    ids = _shown(tab)
    page.locator(f'.card[data-id="{ids[0]}"] .vote.up').click()
    page.locator(f'.card[data-id="{ids[1]}"] .vote.down').click()

    page.reload()
    expect(page.locator("#cards .card")).to_have_count(5)
    assert _shown(tab) == ids
    up = page.locator(f'.card[data-id="{ids[0]}"] .vote.up')
    down = page.locator(f'.card[data-id="{ids[1]}"] .vote.down')
    expect(up).to_have_attribute("aria-pressed", "true")
    expect(down).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#send")).to_be_enabled()
    expect(page.locator("#vote-hint")).to_have_text("Оценено 2 из 5.")
