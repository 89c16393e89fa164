"""Liveness, readiness (catalog + database), metrics, and serving before a catalog exists."""

from __future__ import annotations

import time

from prometheus_client.parser import text_string_to_metric_families

from tests.service.conftest import Server, seed_catalog


def _samples(server: Server) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = server.client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def _requests(samples, route: str, status: str, method: str = "POST") -> float:  # type: ignore[no-untyped-def]
    key = ("vacrec_http_requests_total", (("method", method), ("route", route), ("status", status)))
    return samples.get(key, 0.0)


def test_healthz_and_readyz(server: Server) -> None:
    assert server.client.get("/healthz").json() == {"status": "ok"}
    ready = server.client.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["ready"] and body["catalog"] and body["database"]
    assert body["model"] is False and body["model_version"] is None
    assert (
        body["catalog_version"] == server.client.get("/api/v1/industries").json()["catalog_version"]
    )


def test_without_catalog_not_ready_then_ready_after_ingest(make_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    server = make_server(seed=False)
    ready = server.client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["catalog"] is False
    assert ready.json()["database"] is True
    response = server.client.post("/api/v1/recommendations", json={"age": 30, "skill": "акварель"})
    assert response.status_code == 503 and "catalog" in response.json()["detail"]
    assert int(response.headers["retry-after"]) > 0
    legacy = server.client.get("/api/recommend/", params={"age": 30, "skill": "акварель"})
    assert legacy.status_code == 503 and legacy.json()["status_code"] == 503
    assert server.client.get("/api/v1/industries").json()["industries"] == []

    seed_catalog(server.engine, tmp_path)  # the running server notices on its next poll
    deadline = time.monotonic() + 20
    while server.client.get("/readyz").status_code != 200:
        assert time.monotonic() < deadline, "the new catalog was never picked up"
        time.sleep(0.1)
    response = server.client.post("/api/v1/recommendations", json={"age": 30, "skill": "акварель"})
    assert response.status_code == 200


def test_metrics_count_requests_events_and_feedback(server: Server) -> None:
    before = _samples(server)
    n = 3
    event_ids = []
    for _ in range(n):
        response = server.client.post(
            "/api/v1/recommendations", json={"age": 30, "skill": "акварель"}
        )
        event_ids.append(response.json()["event_id"])
    server.client.post("/api/v1/recommendations", json={"age": 3, "skill": "акварель"})
    server.client.post("/api/v1/feedback", json={"event_id": event_ids[0], "cum_reward": 1})
    server.client.get("/no/such/path/123")
    after = _samples(server)

    def delta(key):  # type: ignore[no-untyped-def]
        return after.get(key, 0.0) - before.get(key, 0.0)

    route = "/api/v1/recommendations"
    assert _requests(after, route, "200") - _requests(before, route, "200") == n
    assert _requests(after, route, "422") - _requests(before, route, "422") == 1
    assert (
        _requests(after, "<unmatched>", "404", "GET")
        - _requests(before, "<unmatched>", "404", "GET")
        == 1
    )
    assert not any("/no/such" in str(labels) for _, labels in after)
    latency = ("vacrec_http_request_seconds_count", (("method", "POST"), ("route", route)))
    assert delta(latency) == n + 1
    assert delta(("vacrec_events_served_total", (("explore", "true"), ("source", "api")))) == n
    assert delta(("vacrec_feedback_total", (("kind", "cum_reward"),))) == 1
    assert delta(("vacrec_reward_count", ())) == 1
    assert after[("vacrec_model_version", ())] == -1
    catalog = server.client.get("/api/v1/industries").json()["catalog_version"]
    assert after[("vacrec_catalog_version", ())] == catalog
