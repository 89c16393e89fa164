"""The "why this industry" section: content match and what was learned, shown apart."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.browser.conftest import LiveServer, Tab, plain, ru_percent, ru_signed

pytestmark = pytest.mark.browser

MAX_BARS = 6  # app.js: rows in the table, the chosen industry always among them
INDUSTRIES = (
    "Искусство, развлечения, масс-медиа",
    "Маркетинг, реклама, PR",
    "Розничная торговля",
    "Наука, образование",
)
_WORDS = (
    "акварель выставка картины",
    "реклама баннеры кампании",
    "витрины магазин продажи",
    "лекции студенты кафедра",
)
CATALOG: list[dict[str, Any]] = [
    {
        "id": f"{g}{i}",
        "name": f"Вакансия {g}-{i}",
        "description": f"Ищем сотрудника: {_WORDS[g]}, проект {g}-{i}.",
        "industries": [industry],
        "company": f"Компания {g}",
        "salary": 40000 + 5000 * i,
        "url": f"https://hh.ru/vacancy/{g}{i}",
        "logo": None,
    }
    for g, industry in enumerate(INDUSTRIES)
    for i in range(2)
]


def _search(tab: Tab, server: LiveServer, preference: str) -> dict[str, Any]:
    page = tab.page
    page.goto(server.url + "/")
    page.locator("#skill option").nth(1).wait_for(state="attached")
    page.fill("#age", "27")
    page.select_option("#skill", index=1)
    page.fill("#preference", preference)
    with page.expect_response(lambda r: r.url.endswith("/api/v1/recommendations")) as answer:
        page.click("#submit")
    assert answer.value.status == 200
    page.wait_for_selector("#why-chart tbody tr")
    return answer.value.json()


def _table(tab: Tab) -> list[dict[str, str]]:
    """The rows of the why-table as the reader sees them."""
    rows = tab.page.locator("#why-chart tbody tr")
    return [
        {
            "industry": row.locator(".why-industry").inner_text(),
            "match": plain(row.locator(".why-match .why-val").inner_text()),
            "learned": plain(row.locator(".why-learned .why-val").inner_text()),
            "learned_sr": row.locator(".why-learned .sr-only").all_inner_texts(),
            "chosen": "chosen" in (row.get_attribute("class") or "").split(),
        }
        for row in rows.all()
    ]


def test_content_prior_shows_the_match_and_no_learned_values(
    tab: Tab, live_server: LiveServer
) -> None:
    page = tab.page
    data = _search(tab, live_server, "акварель и картины для выставки")
    explanation = data["explanation"]
    assert data["model_version"] is None and explanation["policy"] == "content prior"
    industries = sorted(explanation["industries"], key=lambda r: r["score"], reverse=True)
    assert all(r["learned"] is None for r in industries)

    rows = _table(tab)
    assert [r["industry"] for r in rows] == [r["industry"] for r in industries]  # best first
    for row, expected in zip(rows, industries, strict=True):
        # a share of the best industry's match (the first: the prior ranks by it)
        assert row["match"] == ru_percent(expected["match"] / industries[0]["match"])
        assert row["learned"] == "—" and row["learned_sr"] == ["пока нет оценок"]
        assert row["chosen"] == (expected["industry"] == data["action"]["industry"])
    assert industries[0]["industry"] == INDUSTRIES[0]  # the watercolour postings match best
    assert industries[0]["match"] > industries[1]["match"]

    note = page.locator("#why-note").inner_text()
    if data["action"]["industry"] == INDUSTRIES[0]:
        assert note == (
            "Пока оценок мало, поэтому отрасль выбрана по тому, насколько её вакансии "
            "похожи на ваш запрос."
        )
    else:  # ε-exploration around the prior
        assert "пробуем другую отрасль" in note and INDUSTRIES[0] in note
    foot = plain(page.locator("#why-foot").inner_text())
    assert "Совпадение: 100 % у отрасли, чьи лучшие вакансии ближе всего" in foot
    assert "Поправка по оценкам: «—», пока оценок мало" in foot
    assert "−" not in foot and "+" not in foot  # no range of learned values to state
    why = page.locator("#why").inner_text()
    assert "Q" not in why and "агент" not in why  # no jargon

    page.click("#lang-switch")
    if data["action"]["industry"] == INDUSTRIES[0]:
        assert page.locator("#why-note").inner_text() == (
            "There are too few ratings to learn from yet, so the industry is the one whose "
            "vacancies best match your words."
        )
    assert page.locator("#why-chart thead th").all_inner_texts() == [
        "Industry",
        "Match with your words",
        "Learned from ratings",
    ]
    assert (
        "Match: 100% for the industry whose best vacancies come closest"
        in page.locator("#why-foot").inner_text()
    )
    assert page.locator("#why-chart .why-learned .sr-only").first.inner_text() == "no ratings yet"


def _serve_stub(tab: Tab, chosen: str, rows: list[dict[str, Any]]) -> None:
    """Answer the page's request with the server's real response, its choice and explanation
    replaced by a model's (stubbed in the browser: the numbers are then known exactly)."""

    def stub(route: Any) -> None:
        # The server's own choice greedy, so its items answer the words (no ε-exploration).
        request = {**route.request.post_data_json, "explore": False}
        response = route.fetch(post_data=json.dumps(request))
        body = response.json()
        body["model_version"] = 7
        body["action"] = {"index": [r["industry"] for r in rows].index(chosen), "industry": chosen}
        body["explanation"] = {
            "policy": "model",
            "industries": rows,
            "q_values": [{"industry": r["industry"], "q": r["score"]} for r in rows],
        }
        route.fulfill(response=response, body=json.dumps(body), content_type="application/json")

    tab.page.route("**/api/v1/recommendations", stub)


def _model_rows(names: list[str], match: list[float], learned: list[float]) -> list[dict[str, Any]]:
    return [
        {"industry": n, "match": m, "learned": v, "score": 2 * m + v}
        for n, m, v in zip(names, match, learned, strict=True)
    ]


def test_exploring_model_keeps_the_chosen_row_and_states_the_real_range(
    tab: Tab, live_server: LiveServer
) -> None:
    """A model's answer (stubbed in the browser) with more industries than rows and a choice
    that ranks last: the chosen row stays, and the footnote's range covers every industry."""
    names = [f"Отрасль {n}" for n in range(1, 9)]
    learned = [2.03, 0.4, -0.1, 0.3, 0.0, -0.2, -1.9, -1.68]  # the lowest is not shown
    match = [0.9, 0.5, 0.6, 0.3, 0.2, 0.1, 0.05, 0.0]
    scores = [2 * m + v for m, v in zip(match, learned, strict=True)]  # as _model_rows ranks
    chosen = names[-1]  # ranks 7th of 8

    _serve_stub(tab, chosen, _model_rows(names, match, learned))
    _search(tab, live_server, "акварель")
    page = tab.page

    order = sorted(range(len(names)), key=lambda i: scores[i], reverse=True)
    shown = [*order[: MAX_BARS - 1], names.index(chosen)]
    rows = _table(tab)
    assert [r["industry"] for r in rows] == [names[i] for i in shown]
    assert [r["chosen"] for r in rows] == [False] * (MAX_BARS - 1) + [True]
    for row, i in zip(rows, shown, strict=True):
        assert row["match"] == ru_percent(match[i] / max(match))  # a share of the best
        assert row["learned"] == ru_signed(learned[i]) and row["learned_sr"] == []
    assert rows[0]["learned"] == "+2,03"
    assert "Ещё отраслей ниже по списку: 2." in page.locator("#why-chart").inner_text()

    note = page.locator("#why-note").inner_text()
    assert "пробуем другую отрасль" in note and f"«{names[0]}»" in note
    foot = plain(page.locator("#why-foot").inner_text())
    assert "Совпадение: 100 % у отрасли, чьи лучшие вакансии ближе всего" in foot
    # The range is that of every industry's learned value, not a fixed −1…1.
    assert "Поправка по оценкам: от −1,90 до +2,03 по всем отраслям (8)" in foot

    page.click("#lang-switch")
    assert "trying another industry" in page.locator("#why-note").inner_text()
    assert "Learned from ratings: −1.90 to +2.03 across all 8 industries" in (
        page.locator("#why-foot").inner_text()
    )


def test_greedy_model_says_when_ratings_outweighed_the_words(
    tab: Tab, live_server: LiveServer
) -> None:
    names = list(INDUSTRIES)
    # The first industry matches the words best, the second is chosen on its ratings.
    rows = _model_rows(names, [0.4, 0.2, 0.1, 0.0], [-0.5, 0.9, -0.1, -0.3])
    _serve_stub(tab, names[1], rows)
    data = _search(tab, live_server, "акварель")
    assert data["fallback"] is False  # the server's greedy items: its words matched
    note = tab.page.locator("#why-note").inner_text()
    assert note == (
        f"Слова вашего запроса лучше совпадают с вакансиями отрасли «{names[0]}», но эту "
        "отрасль люди с похожим профилем оценивали заметно лучше, поэтому выбрана она."
    )
    assert tab.page.locator("#why-chart tr.chosen .why-industry").inner_text() == names[1]
    assert plain(tab.page.locator("#why-foot").inner_text()).count("−0,50 до +0,90") == 1
