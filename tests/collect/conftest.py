"""Fixtures of the collector tests: the loopback hh.ru API server and fast clients."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from tests.collect.hh_server import HHTestServer, load_fixture
from vacrec.collect.client import HHClient, RetryPolicy

USER_AGENT = "vacrec-tests/1.0 (tests@example.org)"
FAST_RETRY = RetryPolicy(max_attempts=3, backoff_base_s=0.01, backoff_cap_s=0.05)
"""Three tries, milliseconds apart: the retry logic is exercised without slow tests."""


@pytest.fixture
def make_server() -> Iterator[Callable[..., HHTestServer]]:
    """Start a loopback hh.ru API server (stopped after the test)."""
    with ExitStack() as stack:

        def start(vacancies: list[dict[str, Any]] | None = None, **kwargs: Any) -> HHTestServer:
            data = load_fixture("vacancies.json") if vacancies is None else vacancies
            return stack.enter_context(HHTestServer(data, **kwargs).running())

        yield start


@pytest.fixture
def hh_server(make_server: Callable[..., HHTestServer]) -> HHTestServer:
    """A server holding the twelve fixture vacancies."""
    return make_server()


@pytest.fixture
def make_client() -> Callable[..., HHClient]:
    """Build a client of a server (or a bare URL): a high rate and fast retries unless told."""

    def build(server: HHTestServer | str, **kwargs: Any) -> HHClient:
        options: dict[str, Any] = {"rate_per_s": 1000.0, "timeout_s": 2.0, "retry": FAST_RETRY}
        options.update(kwargs)
        url = server if isinstance(server, str) else server.url
        return HHClient(url, USER_AGENT, seed=7, **options)

    return build


@pytest.fixture
def closed_port_url() -> str:
    """The URL of a loopback port nothing listens on: bound for a free number, then closed."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


UNRESOLVABLE_URL = "http://nonexistent.invalid"
"""``.invalid`` never resolves (RFC 6761)."""
