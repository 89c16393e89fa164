"""With a trained, promoted model: the page explains its choice, the dashboard shows the model."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.browser.conftest import LiveServer, Tab, plain, ru_percent, ru_signed
from vacrec.agent.trainer import TrainConfig
from vacrec.app.simulation import simulate_into_store
from vacrec.app.training import LogSelection, train_from_store

pytestmark = pytest.mark.browser

INDUSTRIES = ("Искусство, развлечения, масс-медиа", "Маркетинг, реклама, PR", "Розничная торговля")
_WORDS = ("акварель выставка", "реклама баннеры", "витрины магазин")
CATALOG: list[dict[str, Any]] = [
    {
        "id": f"{g}{i}",
        "name": f"Художник {g}-{i}",
        "description": f"Ищем художника: {_WORDS[g]}, проект {g}-{i}.",
        "industries": [industry],
        "company": f"Компания {g}",
        "salary": 40000 + 5000 * i,
        "url": f"https://hh.ru/vacancy/{g}{i}",
        "logo": None,
    }
    for g, industry in enumerate(INDUSTRIES)
    for i in range(2)
]


@pytest.fixture(scope="module")
def trained(live_server: LiveServer) -> dict[str, Any]:
    """Simulated job seekers through the real service layer, then the real trainer registers
    and promotes a model; the server picks it up from the registry."""
    client = live_server.client
    simulate_into_store(
        live_server.engine, live_server.settings, events=300, seed=3, source="simulator"
    )
    report = train_from_store(
        live_server.engine,
        live_server.settings,
        TrainConfig(updates=300),
        promote_mode="always",
        selection=LogSelection(simulated=True),
        allow_simulated=True,  # this server has no real seekers to protect
    )
    assert report["promoted"], report
    skill = client.get("/api/v1/skills").json()["skills"][0]
    probe = {"age": 30, "skill": skill, "preference": "", "explore": False}
    deadline = time.monotonic() + 30  # the server polls the registry every 0.2 s
    while (
        client.post("/api/v1/recommendations", json=probe).json()["model_version"]
        != (report["version"])
    ):
        assert time.monotonic() < deadline, "the server did not pick up the promoted model"
        time.sleep(0.1)
    return report


def test_page_shows_match_and_learned_values_apart(
    tab: Tab, live_server: LiveServer, trained: dict[str, Any]
) -> None:
    page = tab.page
    page.goto(live_server.url + "/")
    page.locator("#skill option").nth(1).wait_for(state="attached")
    page.fill("#age", "33")
    page.select_option("#skill", index=1)
    page.fill("#preference", "акварель для выставки")
    with page.expect_response(lambda r: r.url.endswith("/api/v1/recommendations")) as answer:
        page.click("#submit")
    data = answer.value.json()
    assert data["model_version"] == trained["version"]
    assert data["explanation"]["policy"] == "model"
    industries = sorted(data["explanation"]["industries"], key=lambda r: r["score"], reverse=True)
    assert len(industries) == len(INDUSTRIES)

    rows = page.locator("#why-chart tbody tr")
    rows.first.wait_for()
    assert rows.count() == len(INDUSTRIES)  # fewer than the page's limit: all shown, best first
    assert rows.locator(".why-industry").all_inner_texts() == [r["industry"] for r in industries]
    chosen = page.locator("#why-chart tbody tr.chosen")
    assert chosen.count() == 1
    assert chosen.locator(".why-industry").inner_text() == data["action"]["industry"]
    assert chosen.locator(".badge").inner_text() == "выбрано"
    for i, expected in enumerate(industries):
        row = rows.nth(i)
        top = max(r["match"] for r in industries)  # each shown as a share of the best
        assert plain(row.locator(".why-match .why-val").inner_text()) == ru_percent(
            expected["match"] / top
        )
        assert row.locator(".why-learned .why-val").inner_text() == ru_signed(expected["learned"])

    learned = [r["learned"] for r in industries]
    foot = plain(page.locator("#why-foot").inner_text())
    assert "Совпадение: 100 % у отрасли, чьи лучшие вакансии ближе всего" in foot
    assert (
        f"Поправка по оценкам: от {ru_signed(min(learned))} до {ru_signed(max(learned))} "
        f"по всем отраслям ({len(learned)})"
    ) in foot

    best = industries[0]["industry"]
    note = page.locator("#why-note").inner_text()
    if data["action"]["industry"] == best:
        assert "похожим профилем" in note and "пробуем" not in note
    else:
        assert "пробуем другую отрасль" in note and f"«{best}»" in note
    why = page.locator("#why").inner_text()
    assert "Q" not in why and "агент" not in why  # no jargon

    page.click("#lang-switch")
    assert page.locator("#why-chart thead th").all_inner_texts()[1:] == [
        "Match with your words",
        "Learned from ratings",
    ]
    assert "people like you" in page.locator("#why-note").inner_text() or (
        "trying another industry" in page.locator("#why-note").inner_text()
    )


def test_dashboard_shows_models_estimates_and_loss(
    tab: Tab, live_server: LiveServer, trained: dict[str, Any]
) -> None:
    page = tab.page
    page.goto(live_server.url + "/dashboard")
    page.wait_for_selector("body[data-ready=true]")

    live = page.locator("#plot-models .model.live")
    assert live.count() == 1
    assert live.get_attribute("data-version") == str(trained["version"])
    estimators = live.locator(".estimate").evaluate_all(
        "nodes => nodes.map(n => n.dataset.estimator)"
    )
    assert set(estimators) == set(trained["ope"]["candidate"])
    assert live.locator(".errbar").count() >= 3  # each interval: a line and two caps
    assert page.locator("#plot-loss svg path.series").count() == 1
    assert str(trained["version"]) in page.locator("#plot-loss .legend").inner_text()
    stats = page.locator(".stat-value").all_inner_texts()
    assert stats[-1] == f"v{trained['version']}"
