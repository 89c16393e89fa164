"""Who is asking: the client's address, and the identity the logs keep of it.

The address is the TCP peer's, or the one a trusted reverse proxy forwards
(``VACREC_TRUSTED_PROXIES``; uvicorn's ``ProxyHeadersMiddleware`` rewrites the
peer before any route runs). Nobody else's ``X-Forwarded-For`` counts: a client
rotating that header would otherwise get a fresh rate-limit budget, and a fresh
identity in the training logs, per request.

The logs keep a keyed hash of the address, not the address: enough to cap one
client's weight in what is learned and to tie a legacy write to the client
that was served, without storing where people connect from. An IPv6 client
usually holds a whole /64, so that prefix is its identity.
"""

from __future__ import annotations

import hashlib
import ipaddress

from fastapi import Request

UNKNOWN_ADDRESS = "unknown"
IDENTITY_HEX_CHARS = 24
IPV6_CLIENT_PREFIX = 64


def client_address(request: Request) -> str:
    """The peer address (already the forwarded one when a trusted proxy sent it)."""
    return request.client.host if request.client is not None else UNKNOWN_ADDRESS


def client_subject(address: str) -> str:
    """What counts as one client: the IPv4 address, or the IPv6 address's /64."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # ::ffff:a.b.c.d is that IPv4 client
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/{IPV6_CLIENT_PREFIX}", strict=False))
    return str(ip)


def identity_of(address: str, key: str) -> str:
    """The stored identity of ``address``: a keyed BLAKE2b of its :func:`client_subject`,
    short enough for an indexable column."""
    subject = client_subject(address)
    digest = hashlib.blake2b(
        subject.encode(), key=key.encode()[:64], digest_size=IDENTITY_HEX_CHARS // 2
    )
    return digest.hexdigest()


def request_identity(request: Request) -> str:
    """The identity of the client making ``request``, under the app's key."""
    return identity_of(client_address(request), request.app.state.settings.client_key)
