"""The refresh/retire cycle end to end: a fake hh.ru API on loopback, the real collector,
ingest and store, and a real vacrec server that stops serving what was retired."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select, update

from tests.collect.hh_server import HHTestServer, Reply, error_body, numbered_vacancies
from tests.live_server import serve_in_thread
from vacrec.app.refresh import (
    RefreshError,
    RefreshQuery,
    TokenRefused,
    refresh_once,
    resolve_queries,
)
from vacrec.commands.refresh import refresh_forever
from vacrec.config import Settings
from vacrec.store.db import make_engine, migrate, utcnow
from vacrec.store.refreshes import last_refresh
from vacrec.store.tables import vacancies

ALL = "откликов"  # every fixture vacancy says «Ждём ваших откликов»
QUERY = [RefreshQuery(ALL)]


@pytest.fixture
def hh() -> Iterator[HHTestServer]:
    with HHTestServer(numbered_vacancies(8)).running() as server:
        yield server


@pytest.fixture
def store(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    migrate(engine)
    yield engine
    engine.dispose()


def _settings(tmp_path: Path, database_url: str, hh: HHTestServer, **more: Any) -> Settings:
    values: dict[str, Any] = {
        "home": tmp_path / "home",
        "database_url": database_url,
        "hh_api_url": hh.url,
        "hh_rate_per_s": 1000.0,
        "hh_timeout_s": 2.0,
        "hh_max_attempts": 2,
        "catalog_poll_s": 0.2,
        "model_poll_s": 0.2,
        "epsilon": 0.0,
        "rate_limit_recommendations": "off",
        "rate_limit_rewards": "off",
        "rate_limit_dashboard": "off",
    }
    return Settings(**(values | more))


def _shown(client: httpx.Client, preference: str) -> set[str]:
    body = client.post(
        "/api/v1/recommendations",
        json={"age": 30, "skill": "живопись", "preference": preference, "k": 20},
    ).json()
    return {str(item["id"]) for item in body["items"]}


def _wait_until(check, timeout_s: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the condition never held")
        time.sleep(0.1)


def test_refresh_inserts_then_retires_archived_and_unseen_postings_but_old_events_still_rate(
    hh: HHTestServer, store: Engine, database_url: str, tmp_path: Path
) -> None:
    settings = _settings(tmp_path, database_url, hh)
    first = refresh_once(store, settings, QUERY)
    assert (first.collected, first.inserted, first.retired) == (8, 8, 0)
    assert first.vacancies == 8 and first.catalog_version is not None

    from vacrec.service.app import create_app

    with serve_in_thread(create_app(settings)) as url, httpx.Client(base_url=url) as client:
        served = client.post(
            "/api/v1/recommendations",
            json={"age": 30, "skill": "живопись", "preference": "художник", "k": 20},
        ).json()
        shown = [str(item["id"]) for item in served["items"]]
        assert len(shown) >= 2
        archived, gone = shown[0], shown[1]

        others = set(hh.vacancies) - {archived, gone}
        before: set[str] = set()
        for vacancy_id in others:
            before |= _shown(client, hh.vacancies[vacancy_id]["name"])
        assert {archived, gone} <= before  # so the check below can see them go

        # hh.ru now reports one archived and no longer lists the other.
        hh.vacancies[archived] = {**hh.vacancies[archived], "archived": True}
        hh.order.remove(gone)
        second = refresh_once(store, settings, QUERY)
        assert (second.retired_archived, second.retired_unseen) == (1, 0)
        assert second.inserted == 0 and second.collected == 7

        # Thirty-one days pass without any collection listing the gone one.
        with store.begin() as conn:
            conn.execute(
                update(vacancies)
                .where(vacancies.c.id == gone)
                .values(last_seen_at=utcnow() - timedelta(days=31))
            )
        third = refresh_once(store, settings, QUERY)
        assert (third.retired_unseen, third.retired, third.vacancies) == (1, 1, 6)
        with store.connect() as conn:
            reasons = dict(conn.execute(select(vacancies.c.id, vacancies.c.retired_reason)).all())
        assert reasons[archived] == "archived" and reasons[gone] == "unseen"
        assert sum(r is None for r in reasons.values()) == 6  # the rows stay

        open_ids = {i for i, reason in reasons.items() if reason is None}

        def retired_not_served() -> bool:
            """Asked with every open posting's title, the server shows exactly those."""
            ids: set[str] = set()
            for vacancy_id in open_ids:
                ids |= _shown(client, hh.vacancies[vacancy_id]["name"])
            return ids == open_ids

        _wait_until(retired_not_served)

        # The event that showed the retired postings still takes its feedback.
        vote = client.post(
            "/api/v1/feedback",
            json={
                "event_id": served["event_id"],
                "votes": [{"vacancy_id": archived, "vote": 1}, {"vacancy_id": gone, "vote": -1}],
            },
        )
        assert vote.status_code == 200, vote.text


def test_a_failed_search_retires_nothing_as_unseen(
    hh: HHTestServer, store: Engine, database_url: str, tmp_path: Path
) -> None:
    settings = _settings(tmp_path, database_url, hh)
    refresh_once(store, settings, QUERY)
    with store.begin() as conn:
        conn.execute(update(vacancies).values(last_seen_at=utcnow() - timedelta(days=40)))
    hh.script("/vacancies", Reply(500), Reply(500))  # both attempts fail
    report = refresh_once(store, settings, QUERY)
    assert report.search_errors and report.retired == 0 and report.vacancies == 8
    with store.connect() as conn:
        assert last_refresh(conn)["error"]  # logged for the dashboard
    # hh.ru answers again: the stale ones are not listed any more, so they retire.
    hh.order[:] = hh.order[:5]
    again = refresh_once(store, settings, QUERY)
    assert again.retired_unseen == 3 and again.vacancies == 5


def test_403_without_a_token_asks_for_one_and_with_one_says_it_was_refused(
    hh: HHTestServer, store: Engine, database_url: str, tmp_path: Path
) -> None:
    hh.script("/vacancies", Reply(403, error_body("forbidden")))
    with pytest.raises(TokenRefused) as anonymous:
        refresh_once(store, _settings(tmp_path, database_url, hh), QUERY)
    message = str(anonymous.value)
    assert "token" in message and "VACREC_HH_TOKEN=" in message and "\n" not in message

    hh.script("/vacancies", Reply(403, error_body("oauth", "token_revoked")))
    settings = _settings(tmp_path, database_url, hh, hh_token="app-token-1234")
    with pytest.raises(TokenRefused) as refused:
        refresh_once(store, settings, QUERY)
    assert "refused the application token" in str(refused.value)
    assert "app-token-1234" not in str(refused.value)


def test_the_token_is_sent_as_a_bearer_header(
    hh: HHTestServer, store: Engine, database_url: str, tmp_path: Path
) -> None:
    settings = _settings(tmp_path, database_url, hh, hh_token="app-token-5678")
    refresh_once(store, settings, QUERY)
    requests = hh.seen("/vacancies") + hh.seen(f"/vacancies/{hh.order[0]}")
    assert requests
    assert {r.headers.get("Authorization") for r in requests} == {"Bearer app-token-5678"}
    assert all("app-token-5678" not in str(r.query) for r in requests)


def test_later_refreshes_reuse_the_last_queries(
    hh: HHTestServer, store: Engine, database_url: str, tmp_path: Path
) -> None:
    with pytest.raises(RefreshError, match="--query"):
        resolve_queries(store, [])
    refresh_once(store, _settings(tmp_path, database_url, hh), [RefreshQuery(ALL, "1", 2)])
    assert resolve_queries(store, []) == [RefreshQuery(ALL, "1", 2)]
    assert resolve_queries(store, QUERY) == QUERY


def test_the_schedule_repeats_until_stopped(
    hh: HHTestServer, store: Engine, database_url: str, tmp_path: Path
) -> None:
    settings = _settings(tmp_path, database_url, hh)
    stop = threading.Event()
    reports = []

    def note(report: Any) -> None:
        reports.append(report)
        if len(reports) == 2:
            stop.set()

    refresh_forever(store, settings, QUERY, 0.01, stop, note, first_now=True)
    assert [r.inserted for r in reports] == [8, 0]
