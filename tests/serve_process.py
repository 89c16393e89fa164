"""`vacrec serve` as an operator runs it: a subprocess in its own process group.

The group matters for ``kill -9``: with ``--workers N`` uvicorn forks workers, and
killing only the supervisor would leave them serving. Shared by the load and
crash-recovery proofs.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

READY_TIMEOUT_S = 90


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def vacrec_env(home: Path, database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a vacrec command on this store, rate limits and the client share
    cap off.

    Every test client shares 127.0.0.1, so per-address budgets and shares would only
    measure themselves (tests/service/test_rate_limits.py and test_steering.py cover them).
    """
    return os.environ | {
        "VACREC_HOME": str(home),
        "VACREC_DATABASE_URL": database_url,
        "VACREC_RATE_LIMIT_RECOMMENDATIONS": "off",
        "VACREC_RATE_LIMIT_REWARDS": "off",
        "VACREC_TRAIN_MAX_CLIENT_SHARE": "1",
        **extra,
    }


@dataclass
class ServeProcess:
    """A running ``vacrec serve``; ``url`` is its base URL."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    @classmethod
    def start(cls, env: dict[str, str], log: Path, *args: str) -> ServeProcess:
        """Start it; its output goes to ``log`` (a pipe nobody reads would fill and block it)."""
        port = free_port()
        cmd = [sys.executable, "-m", "vacrec.cli", "serve", "--port", str(port), *args]
        with log.open("ab") as out:
            process = subprocess.Popen(
                cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        return cls(process, f"http://127.0.0.1:{port}", log)

    def wait_ready(self) -> float:
        """Poll /readyz until 200; return the seconds it took from now."""
        started = time.monotonic()
        while time.monotonic() - started < READY_TIMEOUT_S:
            if self.process.poll() is not None:
                output = self.log.read_text(errors="replace")[-2000:]
                raise AssertionError(f"vacrec serve exited: {output}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return time.monotonic() - started
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise AssertionError("vacrec serve never became ready")

    def kill9(self) -> None:
        """SIGKILL the supervisor and every worker at once, as a power cut would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        """SIGTERM (graceful); SIGKILL the group if it does not exit."""
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill9()
