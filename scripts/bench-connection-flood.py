#!/usr/bin/env python3
"""One address holds N idle connections; what share of another address's requests is served?

Usage: .venv/bin/python scripts/bench-connection-flood.py URL [--connections 8000] [--seconds 20]

Against a running `vacrec serve` on loopback (its catalog loaded). The attacker binds
127.0.0.2 and keeps up to N connections open without sending a byte, reopening any the
server closes; the honest client binds 127.0.0.3 and sends one recommendation per new
connection in a loop. Prints one JSON line: requests, served (200), other statuses, errors.
Run the server with VACREC_RATE_LIMIT_RECOMMENDATIONS=off (one honest address).
"""

from __future__ import annotations

import argparse
import json
import socket
import threading
import time
from collections import Counter
from urllib.parse import urlsplit

import httpx

ATTACKER, HONEST = "127.0.0.2", "127.0.0.3"


def hold(host: str, port: int, n: int, stop: threading.Event, opened: list[int]) -> None:
    """Keep up to ``n`` idle connections from ATTACKER; reopen those the server closes."""
    held: list[socket.socket] = []
    while not stop.is_set():
        alive = []
        for sock in held:
            try:
                if sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b"":
                    sock.close()  # closed by the server
                    continue
                sock.close()  # it sent something (a 503): it is going away
                continue
            except BlockingIOError:
                alive.append(sock)  # still open and silent
            except OSError:
                sock.close()
        held = alive
        while len(held) < n and not stop.is_set():
            sock = socket.socket()
            sock.bind((ATTACKER, 0))
            sock.settimeout(2)
            try:
                sock.connect((host, port))
            except OSError:
                sock.close()
                break
            held.append(sock)
            opened[0] += 1
        time.sleep(0.2)
    for sock in held:
        sock.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--connections", type=int, default=8000)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    parts = urlsplit(args.url)
    stop, opened = threading.Event(), [0]
    attacker = threading.Thread(
        target=hold, args=(parts.hostname, parts.port, args.connections, stop, opened)
    )
    attacker.start()
    time.sleep(2)  # let the flood build up first
    statuses: Counter[str] = Counter()
    transport = httpx.HTTPTransport(local_address=HONEST)
    body = {"age": 30, "skill": "акварель", "preference": "акварель"}
    deadline = time.monotonic() + args.seconds
    with httpx.Client(base_url=args.url, transport=transport, timeout=10) as client:
        while time.monotonic() < deadline:
            try:
                answer = client.post(
                    "/api/v1/recommendations", json=body, headers={"Connection": "close"}
                )
                statuses[str(answer.status_code)] += 1
            except httpx.HTTPError as error:
                statuses[type(error).__name__] += 1
    stop.set()
    attacker.join()
    total = sum(statuses.values())
    print(
        json.dumps(
            {
                "connections": args.connections,
                "attacker_connects": opened[0],
                "requests": total,
                "served_share": round(statuses["200"] / total, 4) if total else None,
                "statuses": dict(statuses),
            }
        )
    )


if __name__ == "__main__":
    main()
