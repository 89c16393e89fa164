"""The API client against a real loopback server: identity, retries, no retries, rate."""

from __future__ import annotations

import random

import pytest

from tests.collect.conftest import UNRESOLVABLE_URL, USER_AGENT
from tests.collect.hh_server import Reply, error_body
from vacrec.collect.client import FetchError, RetryPolicy

VACANCY = "/vacancies/91000001"


async def test_sends_hh_user_agent_and_bearer_token(hh_server, make_client):
    async with make_client(hh_server, token="tok-123") as client:
        body = await client.get_json(VACANCY)
    assert body["id"] == "91000001"
    (request,) = hh_server.seen(VACANCY)
    assert request.headers["HH-User-Agent"] == USER_AGENT
    assert request.headers["Authorization"] == "Bearer tok-123"
    assert "tok-123" not in repr(client)


async def test_no_authorization_header_without_token(hh_server, make_client):
    async with make_client(hh_server) as client:
        await client.get_json(VACANCY)
    assert "Authorization" not in hh_server.seen(VACANCY)[0].headers


async def test_429_waits_for_retry_after_then_succeeds(hh_server, make_client):
    hh_server.script(VACANCY, Reply(429, error_body("too_many_requests"), {"Retry-After": "1"}))
    async with make_client(hh_server) as client:
        body = await client.get_json(VACANCY)
    assert body["name"] == "Художник-иллюстратор детских книг"
    first, second = hh_server.seen(VACANCY)
    assert second.at - first.at >= 0.9  # the server's own clock: the wait was honoured
    assert client.retries == 1


async def test_429_pauses_other_requests_too(hh_server, make_client):
    hh_server.script(VACANCY, Reply(429, error_body("too_many_requests"), {"Retry-After": "1"}))
    async with make_client(hh_server) as client:
        await client.get_json(VACANCY)
        await client.get_json("/vacancies/91000002")
    refused = hh_server.seen(VACANCY)[0]
    other = hh_server.seen("/vacancies/91000002")[0]
    assert other.at - refused.at >= 0.9


async def test_5xx_then_success(hh_server, make_client):
    hh_server.script(
        VACANCY,
        Reply(500, "<html>Internal Server Error</html>"),  # 5xx bodies need not be JSON
        Reply(503, error_body("service_unavailable")),
    )
    async with make_client(hh_server) as client:
        body = await client.get_json(VACANCY)
    assert body["id"] == "91000001"
    assert len(hh_server.seen(VACANCY)) == 3
    assert client.retries == 2


async def test_5xx_gives_up_after_max_attempts(hh_server, make_client):
    hh_server.script(VACANCY, *[Reply(502, "bad gateway")] * 5)
    async with make_client(hh_server) as client:
        with pytest.raises(FetchError) as caught:
            await client.get_json(VACANCY)
    assert caught.value.cause == "http_5xx"
    assert len(hh_server.seen(VACANCY)) == 3  # FAST_RETRY.max_attempts
    assert str(caught.value) == (
        f"GET {hh_server.url}{VACANCY}: HTTP 502 Bad Gateway: bad gateway "
        "(gave up after 3 attempts)"
    )


async def test_5xx_message_carries_the_apis_error_body(hh_server, make_client):
    hh_server.script(VACANCY, *[Reply(503, error_body("service_unavailable"))] * 3)
    async with make_client(hh_server) as client:
        with pytest.raises(FetchError) as caught:
            await client.get_json(VACANCY)
    assert "HTTP 503 Service Unavailable: service_unavailable" in str(caught.value)
    assert caught.value.status == 503 and caught.value.attempts == 3


async def test_timeout_is_retried(hh_server, make_client):
    hh_server.script(VACANCY, Reply(delay_s=2.0))
    async with make_client(hh_server, timeout_s=0.5) as client:
        body = await client.get_json(VACANCY)
    assert body["id"] == "91000001"
    assert len(hh_server.seen(VACANCY)) == 2


async def test_timeout_gives_up(hh_server, make_client):
    hh_server.script(VACANCY, *[Reply(delay_s=1.5)] * 3)
    async with make_client(hh_server, timeout_s=0.3) as client:
        with pytest.raises(FetchError) as caught:
            await client.get_json(VACANCY)
    assert caught.value.cause == "timeout"
    assert str(caught.value) == (
        f"GET {hh_server.url}{VACANCY}: timed out after 0.3 s waiting for the answer "
        "(gave up after 3 attempts)"
    )


async def test_malformed_json_is_retried_then_reported(hh_server, make_client):
    hh_server.script(VACANCY, Reply(200, '{"id": "91000001", "name": "Худож'))
    hh_server.script("/vacancies/91000002", *[Reply(200, "not json at all")] * 3)
    async with make_client(hh_server) as client:
        assert (await client.get_json(VACANCY))["id"] == "91000001"
        with pytest.raises(FetchError) as caught:
            await client.get_json("/vacancies/91000002")
    assert caught.value.cause == "malformed"
    assert len(hh_server.seen(VACANCY)) == 2


@pytest.mark.parametrize(
    ("status", "body", "cause"),
    [
        (404, error_body("not_found"), "not_found"),
        (400, error_body("bad_argument", "per_page"), "bad_request"),
        (403, error_body("oauth", "bad_authorization"), "forbidden"),
        (403, error_body("captcha_required", "captcha_required"), "captcha_required"),
        (410, "gone", "http_4xx"),
    ],
)
async def test_other_4xx_are_not_retried(hh_server, make_client, status, body, cause):
    hh_server.script(VACANCY, Reply(status, body))
    async with make_client(hh_server) as client:
        with pytest.raises(FetchError) as caught:
            await client.get_json(VACANCY)
    assert caught.value.cause == cause
    assert caught.value.status == status
    assert len(hh_server.seen(VACANCY)) == 1
    assert client.retries == 0
    assert str(caught.value).startswith(f"GET {hh_server.url}{VACANCY}: HTTP {status} ")


async def test_4xx_message_names_the_full_url_and_the_apis_errors(hh_server, make_client):
    hh_server.script("/vacancies", Reply(400, error_body("bad_argument", "per_page")))
    async with make_client(hh_server) as client:
        with pytest.raises(FetchError) as caught:
            await client.get_json("/vacancies", {"text": "художник", "per_page": 500})
    assert str(caught.value) == (
        f"GET {hh_server.url}/vacancies?text=художник&per_page=500: "
        "HTTP 400 Bad Request: bad_argument:per_page"
    )


async def test_refused_connection_is_tried_once_more_then_named(closed_port_url, make_client):
    retry = RetryPolicy(max_attempts=5, connect_attempts=2, backoff_base_s=0.01)
    async with make_client(closed_port_url, retry=retry) as client:
        with pytest.raises(FetchError) as caught:
            await client.get_json("/vacancies", {"text": "x"})
    port = closed_port_url.rsplit(":", 1)[1]
    assert str(caught.value) == (
        f"GET {closed_port_url}/vacancies?text=x: connection refused by 127.0.0.1:{port} "
        "(gave up after 2 attempts)"
    )
    assert caught.value.cause == "connection_refused"
    assert client.requests == 2 and client.retries == 1  # not the five a 503 gets


async def test_unresolvable_host_is_named_and_not_retried(make_client):
    async with make_client(UNRESOLVABLE_URL) as client:
        with pytest.raises(FetchError) as caught:
            await client.get_json("/vacancies")
    message = str(caught.value)
    assert message.startswith(f"GET {UNRESOLVABLE_URL}/vacancies: host name ")
    assert "'nonexistent.invalid' not resolved (" in message
    assert caught.value.cause == "name_not_resolved"
    assert client.requests == 1 and client.retries == 0


@pytest.mark.parametrize("url", ["api.hh.ru", "ftp://api.hh.ru", "http://"])
def test_base_url_must_be_http_with_a_host(url):
    from vacrec.collect.client import HHClient

    with pytest.raises(ValueError, match="http:// or https://"):
        HHClient(url, USER_AGENT)


async def test_rate_limit_spaces_request_starts(hh_server, make_client):
    async with make_client(hh_server, rate_per_s=20.0) as client:
        for vacancy_id in range(91000001, 91000007):
            await client.get_json(f"/vacancies/{vacancy_id}")
    times = [r.at for r in hh_server.requests]
    assert len(times) == 6
    assert times[-1] - times[0] >= 5 * 0.05 * 0.9


def test_backoff_grows_exponentially_with_jitter_and_cap():
    policy = RetryPolicy(backoff_base_s=1.0, backoff_cap_s=8.0)
    rng = random.Random(1)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (6, 8.0)]:
        delays = [policy.backoff(attempt, rng) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1  # jittered


def test_user_agent_is_required():
    from vacrec.collect.client import HHClient

    with pytest.raises(ValueError, match="user_agent"):
        HHClient("http://127.0.0.1:1", "  ")
