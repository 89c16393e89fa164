"""The collect command's tests use the fake hh.ru API of tests/collect."""

from tests.collect.conftest import closed_port_url, hh_server, make_client, make_server

__all__ = ["closed_port_url", "hh_server", "make_client", "make_server"]
