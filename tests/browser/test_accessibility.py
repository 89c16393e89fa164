"""The job seeker's page for people with a screen reader, a keyboard or a phone.

Focus goes where the news is, a live region tells what a search found, every
target is big enough for a finger, Russian catalog text says it is Russian, the
thanks for ratings is in plain words, and axe-core finds nothing serious.
"""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy import func, select

from tests.browser.conftest import (
    ARTS,
    CATALOG,
    LiveServer,
    Tab,
    open_form,
    search,
    submit_unknown_skill,
)
from vacrec.store.tables import events

pytestmark = pytest.mark.browser

BY_ID = {row["id"]: row for row in CATALOG}
MIN_TARGET_PX = 44  # WCAG 2.5.5: a fingertip
INTERACTIVE = 'a[href], button, input, select, textarea, [tabindex]:not([tabindex="-1"])'
BLOCKING = {"serious", "critical"}
AXE = Axe()


def _card(tab: Tab, vacancy_id: str) -> Any:
    return tab.page.locator(f'.card[data-id="{vacancy_id}"]')


def _lang_of(locator: Any) -> str:
    """The language a screen reader would speak this element's text in."""
    return locator.evaluate("(node) => node.closest('[lang]').getAttribute('lang')")


def _to_english(tab: Tab, server: LiveServer) -> None:
    """Switch the page to English; the choice is remembered for the next loads."""
    open_form(tab, server)
    tab.page.click("#lang-switch")
    assert tab.page.locator("html").get_attribute("lang") == "en"


def _vote_and_send(tab: Tab, votes: dict[str, int]) -> None:
    """Vote with the mouse, then send with the keyboard, as a screen reader user would."""
    for vacancy_id, vote in votes.items():
        _card(tab, vacancy_id).locator(".vote.up" if vote == 1 else ".vote.down").click()
    tab.page.focus("#send")
    tab.page.keyboard.press("Enter")


def _blocking_violations(page: Any) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now, one line each."""
    violations = AXE.run(page).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in violations
        if v["impact"] in BLOCKING
    ]


def _small_targets(page: Any) -> tuple[int, list[str]]:
    """How many visible interactive elements there are, and those under 44×44 CSS px."""
    shown = [node for node in page.locator(INTERACTIVE).all() if node.is_visible()]
    small = []
    for node in shown:
        box = node.bounding_box()
        if box["width"] < MIN_TARGET_PX or box["height"] < MIN_TARGET_PX:
            html = node.evaluate("(n) => n.outerHTML.slice(0, 90)")
            small.append(f"{box['width']:.0f}×{box['height']:.0f} {html}")
    return len(shown), small


# ---------------------------------------------------------------- focus and announcements


def test_results_take_the_focus_to_their_heading(tab: Tab, live_server: LiveServer) -> None:
    page = tab.page
    search(tab, live_server, enter_in="#age")  # Enter in a field leaves the focus there
    heading = page.locator("#results-title")
    expect(heading).to_be_focused()
    assert heading.inner_text() == f"Вакансии: {ARTS}"


def test_results_are_told_in_a_live_region(tab: Tab, live_server: LiveServer) -> None:
    page = tab.page
    open_form(tab, live_server)
    region = page.locator("#announce")
    # In the page from the start and empty: screen readers only watch regions they know.
    assert region.get_attribute("aria-live") == "polite"
    assert region.get_attribute("role") == "status"
    assert region.text_content() == ""

    data = search(tab, live_server)
    assert len(data["items"]) == 5
    expect(region).to_have_text(f"Подобрано вакансий: 5, отрасль «{ARTS}».")

    page.click("#lang-switch")
    search(tab, live_server)
    expect(region).to_have_text(f"5 vacancies found in “{ARTS}”.")


def test_sending_votes_takes_the_focus_to_the_outcome(tab: Tab, live_server: LiveServer) -> None:
    page = tab.page
    search(tab, live_server)
    _vote_and_send(tab, {"101": 1})
    status = page.locator("#feedback-status.confirm")
    expect(status).to_be_focused()  # not <body>, where a disabled button drops it
    assert page.locator("#send").is_disabled()
    assert status.inner_text().startswith("Спасибо")


def test_a_refused_send_also_takes_the_focus_to_the_message(
    tab: Tab, live_server: LiveServer
) -> None:
    page = tab.page
    data = search(tab, live_server)
    first = data["items"][0]["id"]
    rated = live_server.client.post(
        "/api/v1/feedback",
        json={"event_id": data["event_id"], "votes": [{"vacancy_id": first, "vote": 1}]},
    )
    assert rated.status_code == 200  # rated elsewhere first: the page's send gets a 409

    with page.expect_response(lambda r: r.url.endswith("/api/v1/feedback")) as answer:
        _vote_and_send(tab, {first: -1})
    assert answer.value.status == 409
    message = page.locator("#feedback-status.error")
    expect(message).to_be_focused()
    assert message.inner_text() == "Эта подборка уже оценена."  # not the server's event id


def test_a_failed_search_gives_the_focus_back(tab: Tab, live_server: LiveServer) -> None:
    page = tab.page
    open_form(tab, live_server)
    page.fill("#age", "30")
    # A skill the server does not know (as from a stale page) gets a 422.
    submit_unknown_skill(page)
    page.locator("#form-error").wait_for()
    expect(page.locator("#submit")).to_be_focused()  # ready to try again, not lost


# ---------------------------------------------------------------- words


def test_thanks_for_ratings_are_in_plain_words(tab: Tab, live_server: LiveServer) -> None:
    page = tab.page
    search(tab, live_server)
    _vote_and_send(tab, {"101": 1, "103": 1, "104": -1})
    status = page.locator("#feedback-status.confirm")
    expect(status).to_have_text(
        "Спасибо, оценки сохранены. Подходит: 2, не подходит: 1. Отклонённые вакансии больше "
        "не покажем — нажмите «Подобрать вакансии» ещё раз."
    )
    assert "0,76" not in status.inner_text() and "0.76" not in status.inner_text()  # tanh(1)

    page.click("#lang-switch")
    expect(status).to_have_text(
        "Thank you, your ratings are saved. Good fit: 2, not for me: 1. Vacancies you turned "
        "down won't be shown again — press “Find vacancies” for more."
    )


def test_russian_catalog_text_is_marked_on_the_english_page(
    tab: Tab, live_server: LiveServer
) -> None:
    page = tab.page
    _to_english(tab, live_server)
    search(tab, live_server)
    assert page.locator("html").get_attribute("lang") == "en"

    for vacancy_id, row in BY_ID.items():
        card = _card(tab, vacancy_id)
        assert _lang_of(card.get_by_text(row["name"], exact=True)) == "ru"
        assert _lang_of(card.locator(".company")) == "ru"
        assert _lang_of(card.locator(".snippet")) == "ru"
        # The page's own words on the card stay English.
        assert _lang_of(card.locator(".salary")) == "en"
        assert _lang_of(card.locator(".vote.up")) == "en"

    title = page.locator("#results-title")
    assert _lang_of(title) == "en"  # "Vacancies: …"
    assert _lang_of(title.get_by_text(ARTS, exact=True)) == "ru"
    assert _lang_of(page.locator("#announce").get_by_text(ARTS, exact=True)) == "ru"
    assert _lang_of(page.locator("#why-chart .why-industry")) == "ru"
    assert _lang_of(page.locator("#why-chart thead th").first) == "en"

    options = page.locator("#skill option")
    assert _lang_of(options.first) == "en"  # "— choose a skill —"
    skills = options.all()[1:]
    assert skills and all(_lang_of(option) == "ru" for option in skills)


# ---------------------------------------------------------------- touch targets


@pytest.mark.parametrize("viewport", [(1100, 900), (390, 844)], ids=["desktop", "phone"])
def test_every_target_is_at_least_44_px(
    tab: Tab, live_server: LiveServer, viewport: tuple[int, int]
) -> None:
    page = tab.page
    page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    search(tab, live_server)
    count, small = _small_targets(page)
    # Brand, nav, language, 5 fields, submit, 4 title links (102's URL is no link), 10 votes, send.
    assert count == 24
    assert small == []

    page.goto(live_server.url + "/dashboard")
    page.wait_for_selector("body[data-ready=true]")
    count, small = _small_targets(page)
    assert count >= 3
    assert small == []


# ---------------------------------------------------------------- axe-core audit


def test_axe_finds_nothing_serious_on_the_page(tab: Tab, live_server: LiveServer) -> None:
    page = tab.page
    found: dict[str, list[str]] = {}
    open_form(tab, live_server)
    found["empty form"] = _blocking_violations(page)
    page.fill("#age", "5")
    page.click("#submit")
    page.locator("#form-error").wait_for()
    found["form error"] = _blocking_violations(page)

    search(tab, live_server)
    found["results"] = _blocking_violations(page)
    _vote_and_send(tab, {"101": 1, "104": -1})
    page.locator("#feedback-status.confirm").wait_for()
    found["after voting"] = _blocking_violations(page)
    page.click("#lang-switch")
    found["after voting, English"] = _blocking_violations(page)

    assert {state: v for state, v in found.items() if v} == {}


def test_axe_finds_nothing_serious_on_the_dashboard(tab: Tab, live_server: LiveServer) -> None:
    client = live_server.client
    skill = client.get("/api/v1/skills").json()["skills"][0]
    served = client.post(
        "/api/v1/recommendations", json={"age": 30, "skill": skill, "preference": ""}
    ).json()
    votes = [{"vacancy_id": served["items"][0]["id"], "vote": 1}]
    client.post("/api/v1/feedback", json={"event_id": served["event_id"], "votes": votes})
    with live_server.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(events)).scalar_one() >= 1

    page = tab.page
    page.goto(live_server.url + "/dashboard")
    page.wait_for_selector("body[data-ready=true]")
    assert page.locator("#plot-actions svg").count() == 1  # something drawn to audit
    assert _blocking_violations(page) == []
