"""A real uvicorn server on a free loopback port, in a background thread, for tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

STARTUP_TIMEOUT_S = 120
"""Generous: a loaded machine (other test workers, other checkouts) starts servers slowly;
a server that starts in time costs nothing of it."""
STOP_TIMEOUT_S = 60
"""A server still running after this is an error: its socket is not closed under it."""


@contextmanager
def serve_in_thread(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` (lifespan included) and yield its base URL; stop it on exit.

    The socket is the server's once the thread starts: its port is read before, and it is
    closed here only after the thread has ended. Closing it under a server that was still
    stopping freed its descriptor number for the next test's socket, which the old server's
    loop (uvloop closes the descriptor it was given, by number) then closed: that test met
    ``OSError: Bad file descriptor`` on its own socket.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            app, log_level="warning", lifespan="on", access_log=False, proxy_headers=False
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=STOP_TIMEOUT_S)
        if thread.is_alive():
            raise RuntimeError(f"the test server did not stop within {STOP_TIMEOUT_S} s")
        sock.close()
