"""The operator token: once VACREC_ADMIN_TOKEN is set, operator routes need it, and only it."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from tests.service.conftest import ServerFactory
from vacrec.config import BadSettings, get_settings, load_settings
from vacrec.service.admin import operator_token_ok

TOKEN = "s3cret-operator-token-42"


def test_dashboard_data_needs_the_token_once_one_is_set(make_server: ServerFactory) -> None:
    server = make_server(admin_token=SecretStr(TOKEN))
    missing = server.client.get("/api/v1/dashboard")
    wrong = server.client.get("/api/v1/dashboard", headers={"Authorization": "Bearer nope"})
    basic = server.client.get("/api/v1/dashboard", headers={"Authorization": f"Basic {TOKEN}"})
    right = server.client.get("/api/v1/dashboard", headers={"Authorization": f"Bearer {TOKEN}"})
    lower = server.client.get("/api/v1/dashboard", headers={"authorization": f"bearer {TOKEN}"})
    page = server.client.get("/dashboard")  # the shell: it asks for the token itself

    for refused in (missing, wrong, basic):
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
        assert "Authorization" in refused.json()["detail"]
        assert TOKEN not in refused.text
    assert right.status_code == 200 and "traffic" in right.json()
    assert lower.status_code == 200  # the scheme is case-insensitive (RFC 9110)
    assert page.status_code == 200
    # Serving routes never need it.
    rec = server.client.post("/api/v1/recommendations", json={"age": 30, "skill": "акварель"})
    assert rec.status_code == 200


def test_without_a_token_the_dashboard_stays_open(make_server: ServerFactory) -> None:
    server = make_server()
    assert server.client.get("/api/v1/dashboard").status_code == 200


@pytest.mark.parametrize(
    ("header", "ok"),
    [
        (f"Bearer {TOKEN}", True),
        (f"Bearer  {TOKEN} ", True),
        (f"Bearer {TOKEN}x", False),
        (f"Bearer {TOKEN[:-1]}", False),
        ("Bearer ", False),
        ("Bearer ключ", False),  # non-ASCII: compared as bytes, refused, no error
        (TOKEN, False),
        (None, False),
    ],
)
def test_token_check(header: str | None, ok: bool) -> None:
    assert operator_token_ok(TOKEN, header) is ok
    assert operator_token_ok(None, header) is True  # no token set: open


def test_a_weak_token_is_refused_at_start_without_echoing_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VACREC_ADMIN_TOKEN", "short")
    get_settings.cache_clear()
    try:
        with pytest.raises(BadSettings) as error:
            load_settings()
    finally:
        get_settings.cache_clear()
    assert "VACREC_ADMIN_TOKEN" in str(error.value) and "short" not in str(error.value)
