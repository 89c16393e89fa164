"""Place and work format in ``POST /api/v1/recommendations``, and one card per job, over a
real server on a tiny one-industry catalog built here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.service.conftest import ARTS, Server, ServerFactory, seed_catalog
from vacrec.store.db import make_engine, migrate


def _row(i: str, area: str, schedule: str, text: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": i,
        "name": extra.pop("name", f"Художник {i}"),
        "description": f"Ищем художника: {text}. Вакансия {i}.",
        "industries": [ARTS],
        "company": extra.pop("company", f"Студия {i}"),
        "area": area,
        "schedule": schedule,
        "experience": "between1And3",
        "published_at": "2024-03-01T10:00:00+03:00",
        **extra,
    }


def place_rows() -> list[dict[str, Any]]:
    """St Petersburg office jobs match «акварель живопись» best; Moscow and remote ones less;
    one job (title and company) is posted in three cities."""
    strong = "акварель живопись акварель живопись"
    rows = [_row(f"spb{i}", "Санкт-Петербург", "fullDay", strong) for i in range(8)]
    rows += [_row(f"msk{i}", "Москва", "fullDay", "акварель") for i in range(4)]
    rows += [_row(f"rem{i}", "Казань", "remote", "акварель") for i in range(3)]
    rows += [
        _row(f"dup{city}", city, "fullDay", f"акварель живопись роспись {city}",
             name="Художник-декоратор", company="Театр Дубль")
        for city in ("Москва", "Самара", "Томск")
    ]  # fmt: skip
    return rows


@pytest.fixture
def place_server(make_server: ServerFactory, database_url: str, tmp_path: Path) -> Server:
    engine = make_engine(database_url)
    migrate(engine)
    seed_catalog(engine, tmp_path, place_rows())
    engine.dispose()
    return make_server(seed=False, epsilon=0.0)


def _ask(server: Server, **body: object) -> dict[str, Any]:
    payload = {"age": 30, "skill": "акварель", "preference": "акварель живопись"} | body
    response = server.client.post("/api/v1/recommendations", json=payload)
    assert response.status_code == 200, response.text
    return response.json()


def test_items_carry_place_fields_and_the_answer_says_what_it_understood(
    place_server: Server,
) -> None:
    result = _ask(place_server, k=3)
    assert result["place"] == {
        "area": None, "work_format": "any", "area_from_words": False, "format_from_words": False,
        "experience": None,
    }  # fmt: skip
    for item in result["items"]:
        assert item["area"] and item["schedule"] and item["experience"] == "between1And3"
        assert item["published_at"].startswith("2024-03-01") and item["place_match"] is None
    areas = place_server.client.get("/api/v1/areas").json()["areas"]
    assert areas == sorted(["Санкт-Петербург", "Москва", "Казань", "Самара", "Томск"])


@pytest.mark.parametrize("body", [{"area": "Москва"}, {"area": "москве"}])
def test_a_city_ranks_its_jobs_and_remote_ones_first(place_server: Server, body: dict) -> None:
    result = _ask(place_server, **body)
    assert result["place"]["area"] == "Москва"
    assert result["place"]["area_from_words"] is False
    items = result["items"]
    assert len(items) == 5
    for item in items:
        assert item["area"] == "Москва" or item["schedule"] == "remote", item
        assert item["place_match"] is True
    # Without a place the better-matching St Petersburg jobs lead.
    assert _ask(place_server)["items"][0]["area"] == "Санкт-Петербург"


def test_a_city_in_the_words_never_lifts_a_weak_match(place_server: Server) -> None:
    """Said in the words, a city reorders the strong matches only: Moscow's decorator (both
    words) first, then St Petersburg's jobs (both words) before Moscow's that share one."""
    result = _ask(place_server, preference="акварель живопись в Москве")
    assert result["place"]["area"] == "Москва" and result["place"]["area_from_words"]
    items = result["items"]
    assert (items[0]["area"], items[0]["name"]) == ("Москва", "Художник-декоратор")
    assert [i["place_match"] for i in items] == [True] + [False] * 4, [
        (i["id"], i["score"]) for i in items
    ]
    assert {i["area"] for i in items[1:]} == {"Санкт-Петербург"}


def test_others_follow_marked_when_the_city_has_too_few(place_server: Server) -> None:
    items = _ask(place_server, area="Самара", k=8)["items"]
    flags = [item["place_match"] for item in items]
    assert flags == sorted(flags, reverse=True) and flags[0] is True and flags[-1] is False
    for item in items:
        assert item["place_match"] == (item["area"] == "Самара" or item["schedule"] == "remote")


def test_remote_only_is_a_filter(place_server: Server) -> None:
    result = _ask(place_server, k=10, work_format="remote")
    assert result["place"]["work_format"] == "remote"
    assert [i["schedule"] for i in result["items"]] == ["remote"] * 3
    # Said in the words it is a strong preference: remote first, the rest after, marked.
    said = _ask(place_server, k=10, preference="акварель удалённо")
    assert said["place"] == {
        "area": None, "work_format": "remote", "area_from_words": False, "format_from_words": True,
        "experience": None,
    }  # fmt: skip
    items = said["items"]
    assert [i["schedule"] for i in items[:3]] == ["remote"] * 3 and len(items) == 10
    assert [i["place_match"] for i in items] == [True] * 3 + [False] * 7
    office = _ask(place_server, k=20, work_format="office")["items"]
    assert office and all(i["schedule"] != "remote" for i in office)
    # An explicit "any" wins over the words.
    words = _ask(place_server, k=20, preference="акварель удалённо", work_format="any")
    assert words["place"]["work_format"] == "any"
    assert {i["schedule"] for i in words["items"]} == {"remote", "fullDay"}


def test_one_job_once_per_answer_with_its_other_cities(place_server: Server) -> None:
    items = _ask(place_server, preference="декоратор роспись", k=10)["items"]
    dup = [i for i in items if i["name"] == "Художник-декоратор"]
    assert len(dup) == 1
    others = {"Москва", "Самара", "Томск"} - {dup[0]["area"]}
    assert set(dup[0]["also_in"]) == others
    assert len({(i["name"], i["company"]) for i in items}) == len(items)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"area": "Атлантида"}, "area"),
        ({"area": ""}, "area"),
        ({"area": "!!!"}, "area"),
        ({"area": " "}, "area"),
        ({"area": 5}, "area"),
        ({"work_format": "hybrid"}, "work_format"),
        ({"work_format": None}, "work_format"),
    ],
)
def test_bad_place_fields_are_422_naming_the_field(
    place_server: Server, change: dict, field: str
) -> None:
    payload = {"age": 30, "skill": "акварель", "preference": ""} | change
    response = place_server.client.post("/api/v1/recommendations", json=payload)
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith(f"{field}:")


def test_unknown_city_names_close_ones(place_server: Server) -> None:
    response = place_server.client.post(
        "/api/v1/recommendations", json={"age": 30, "skill": "акварель", "area": "Масква"}
    )
    assert response.status_code == 422
    assert "Москва" in response.json()["detail"]


def test_snippets_mark_the_matched_words(place_server: Server) -> None:
    items = _ask(place_server, preference="роспись", k=3)["items"]
    top = items[0]
    assert top["name"] == "Художник-декоратор"
    assert [p["text"] for p in top["snippet_parts"] if p["mark"]] == ["роспись"]
    assert top["snippet"] == "".join(p["text"] for p in top["snippet_parts"])
    unmatched = [i for i in items if not i["matched"]]
    for item in unmatched:
        assert not any(p["mark"] for p in item["snippet_parts"])


def test_the_place_said_is_not_named_as_a_matched_word(place_server: Server) -> None:
    """«в Москве» is weighed by the place rules and shown as the card's city, not as a word
    the card shares (Moscow's decorator says «Москва» in its description)."""
    items = _ask(place_server, preference="акварель живопись в Москве удалённо")["items"]
    decorator = next(i for i in items if i["id"] == "dupМосква")
    assert set(decorator["matched_words"]) == {"акварель", "живопись"}
    assert not {"москве", "удаленно"} & {w for i in items for w in i["matched_words"]}
