"""One host holding many half-sent requests or idle connections cannot take `vacrec serve` down."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import httpx
import pytest

from tests.serve_process import ServeProcess
from tests.service.conftest import seed_catalog
from vacrec.store.db import make_engine, migrate

SLOW = 150
READ_TIMEOUT_S = 2


def _half_sent(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.sendall(b"POST /api/v1/recommendations HTTP/1.1\r\nHost: x\r\nContent-Le")  # never ends
    return sock


def _closed_by_server(sock: socket.socket) -> bytes | None:
    """What the server sent before closing, or None if it is still open."""
    sock.settimeout(0.05)
    received = b""
    try:
        while chunk := sock.recv(4096):
            received += chunk
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return received


@pytest.mark.slow
def test_slow_clients_are_dropped_and_others_still_served(sqlite_url: str, tmp_path: Path) -> None:
    engine = make_engine(sqlite_url)
    migrate(engine)
    seed_catalog(engine, tmp_path)
    engine.dispose()
    env = os.environ | {
        "VACREC_HOME": str(tmp_path / "home"),
        "VACREC_DATABASE_URL": sqlite_url,
        "VACREC_HTTP_MAX_CONNECTIONS": "50",
        "VACREC_HTTP_MAX_CONNECTIONS_PER_ADDRESS": "0",  # all from 127.0.0.1: the read deadline
        "VACREC_HTTP_READ_TIMEOUT_S": str(READ_TIMEOUT_S),
    }
    server = ServeProcess.start(env, tmp_path / "serve.log")
    url = server.url
    slow: list[socket.socket] = []
    try:
        server.wait_ready()
        opened = time.monotonic()
        slow = [_half_sent(url) for _ in range(SLOW)]  # three times the connection limit

        # A normal client is answered at once: served, or refused fast while over the limit.
        started = time.monotonic()
        response = httpx.post(
            f"{url}/api/v1/recommendations", json={"age": 30, "skill": "акварель"}, timeout=10
        )
        assert time.monotonic() - started < 1.5
        assert response.status_code in (200, 503)

        time.sleep(max(0.0, opened + READ_TIMEOUT_S + 1.5 - time.monotonic()))
        answers = [_closed_by_server(sock) for sock in slow]
        assert all(a is not None for a in answers), "slow connections were left open"
        assert all(a.startswith(b"HTTP/1.1 408") for a in answers if a)

        # Once they are gone, normal requests are served again.
        response = httpx.post(
            f"{url}/api/v1/recommendations", json={"age": 30, "skill": "акварель"}, timeout=10
        )
        assert response.status_code == 200
    finally:
        for sock in slow:
            sock.close()
        server.stop()


ATTACKER, CLIENT = "127.0.0.2", "127.0.0.3"  # both loopback: Linux routes all of 127/8 to lo
CAP, TOTAL, HELD = 8, 20, 40


def _idle_from(address: str, url: str) -> socket.socket:
    """A connection from ``address`` that never sends a byte."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((address, 0))
    sock.settimeout(10)
    sock.connect((host, int(port)))
    return sock


@pytest.mark.slow
def test_one_address_cannot_hold_the_connections_others_need(
    sqlite_url: str, tmp_path: Path
) -> None:
    """40 idle connections from one address against 20 per worker: without the per-address
    cap they fill uvicorn's limit and every other client gets a 503; with a cap of 8 the
    rest are closed at once and another address is served every time."""
    engine = make_engine(sqlite_url)
    migrate(engine)
    seed_catalog(engine, tmp_path)
    engine.dispose()
    env = os.environ | {
        "VACREC_HOME": str(tmp_path / "home"),
        "VACREC_DATABASE_URL": sqlite_url,
        "VACREC_HTTP_MAX_CONNECTIONS": str(TOTAL),
        "VACREC_HTTP_MAX_CONNECTIONS_PER_ADDRESS": str(CAP),
        "VACREC_HTTP_READ_TIMEOUT_S": "60",  # the idle ones stay for the whole test
        "VACREC_RATE_LIMIT_RECOMMENDATIONS": "off",
    }
    server = ServeProcess.start(env, tmp_path / "serve.log")
    held: list[socket.socket] = []
    try:
        server.wait_ready()
        held = [_idle_from(ATTACKER, server.url) for _ in range(HELD)]
        time.sleep(0.5)
        answers = [_closed_by_server(sock) for sock in held]
        refused = [a for a in answers if a is not None]
        assert len(refused) == HELD - CAP  # the first 8 stay open, the rest are shut at once
        assert all(a.startswith(b"HTTP/1.1 503") for a in refused if a)

        body = {"age": 30, "skill": "акварель"}
        transport = httpx.HTTPTransport(local_address=CLIENT)
        with httpx.Client(base_url=server.url, transport=transport, timeout=10) as other:
            statuses = [
                other.post("/api/v1/recommendations", json=body, headers={"Connection": "close"})
                for _ in range(20)
            ]
        assert [r.status_code for r in statuses] == [200] * 20

        for sock in held:
            sock.close()
        time.sleep(0.3)  # the server sees them go and gives the address its slots back
        transport = httpx.HTTPTransport(local_address=ATTACKER)
        with httpx.Client(base_url=server.url, transport=transport, timeout=10) as again:
            assert again.post("/api/v1/recommendations", json=body).status_code == 200
    finally:
        for sock in held:
            sock.close()
        server.stop()
    assert "over the cap of 8 per address" in server.log.read_text()
