"""With a trained, promoted model: the page explains its choice, the dashboard shows the model."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.browser.conftest import LiveServer, Tab
from vacrec.agent.trainer import TrainConfig
from vacrec.learning import train_from_store

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
    """Rated traffic through the API, then the real trainer registers and promotes a model."""
    client = live_server.client
    skill = client.get("/api/v1/skills").json()["skills"][0]
    for i in range(24):
        answer = client.post(
            "/api/v1/recommendations", json={"age": 20 + i, "skill": skill, "preference": ""}
        ).json()
        vote = 1 if answer["action"]["industry"] == INDUSTRIES[0] else -1
        votes = [{"vacancy_id": item["id"], "vote": vote} for item in answer["items"]]
        reply = client.post(
            "/api/v1/feedback", json={"event_id": answer["event_id"], "votes": votes}
        )
        assert reply.status_code == 200
    report = train_from_store(
        live_server.engine, live_server.settings, TrainConfig(updates=300), promote_mode="always"
    )
    deadline = time.monotonic() + 30  # the server polls the registry every 0.2 s
    while client.get("/api/v1/model").json()["version"] != report["version"]:
        assert time.monotonic() < deadline, "the server did not pick up the promoted model"
        time.sleep(0.1)
    return report


def test_page_draws_q_values_and_marks_the_chosen_industry(
    tab: Tab, live_server: LiveServer, trained: dict[str, Any]
) -> None:
    page = tab.page
    page.goto(live_server.url + "/")
    page.locator("#skill option").nth(1).wait_for(state="attached")
    page.fill("#age", "33")
    page.select_option("#skill", index=1)
    with page.expect_response(lambda r: r.url.endswith("/api/v1/recommendations")) as answer:
        page.click("#submit")
    data = answer.value.json()
    assert data["model_version"] == trained["version"]

    rows = page.locator("#qchart .qrow")
    rows.first.wait_for()
    assert rows.count() == len(INDUSTRIES)
    chosen = page.locator("#qchart .qrow.chosen")
    assert chosen.count() == 1
    assert chosen.locator(".qname").inner_text() == data["action"]["industry"]
    q = {r["industry"]: r["q"] for r in data["explanation"]["q_values"]}
    labels = page.locator("#qchart .qname").all_inner_texts()
    assert labels == sorted(q, key=q.get, reverse=True)  # best first
    best = labels[0]
    note = page.locator("#why-note").inner_text()
    if data["action"]["industry"] == best:
        assert "наибольшей" in note
    else:
        assert best in note  # exploration names the industry the agent thinks best


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
