"""A polite asynchronous hh.ru API client: identified, rate-limited, retrying with care.

What the API asks of its users (``hhru/api`` docs, general.md and errors.md):

- every request names the application and a contact in ``HH-User-Agent``
  (``User-Agent`` works too; when both are sent ``HH-User-Agent`` wins) —
  without one the answer is ``400 bad_user_agent``;
- errors come as ``{"errors": [{"type": ..., "value": ...}]}``; 5xx bodies may
  not even be JSON, so only the status code is trusted there;
- too many requests get ``429`` (with ``Retry-After``) or a ``403
  captcha_required`` that no program can pass — so we keep a steady rate,
  back off exponentially with jitter on 429/5xx/timeouts, pause *every* task
  after a 429, and never retry other 4xx (they will not get better).

An OAuth token, when given, goes in ``Authorization: Bearer``; it is never put
in a URL, a log message, an exception or a ``repr``.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try one request. Tests shrink the base delay instead of sleeping seconds."""

    max_attempts: int = 5
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 30.0
    max_retry_after_s: float = 300.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Delay after failed attempt ``attempt`` (1-based): exponential, half of it jittered."""
        ceiling = min(self.backoff_cap_s, self.backoff_base_s * 2 ** (attempt - 1))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


class FetchError(Exception):
    """A request that did not yield a usable JSON document, with the cause counted in summaries.

    Causes: ``not_found``, ``bad_request``, ``forbidden``, ``captcha_required``,
    ``http_4xx`` (no retry) and, once retries are spent, ``rate_limited``,
    ``http_5xx``, ``timeout``, ``network``, ``malformed``.
    """

    def __init__(self, cause: str, path: str, status: int | None = None, detail: str = "") -> None:
        self.cause = cause
        self.path = path
        self.status = status
        self.detail = detail
        where = f"{path} (HTTP {status})" if status else path
        super().__init__(f"{cause}: {where}{': ' + detail if detail else ''}")


class RateLimiter:
    """At most ``rate_per_s`` request starts per second across all tasks of one client."""

    def __init__(self, rate_per_s: float) -> None:
        if rate_per_s <= 0:
            raise ValueError("rate_per_s must be positive")
        self._interval = 1.0 / rate_per_s
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        """Wait for the next free slot."""
        async with self._lock:
            # Re-check after each sleep: a 429 meanwhile may have pushed the slot back.
            while (wait := self._next - time.monotonic()) > 0:
                await asyncio.sleep(wait)
            self._next = time.monotonic() + self._interval

    def pause_until(self, moment: float) -> None:
        """Hold back every task until ``moment`` (monotonic clock): the server asked us to."""
        self._next = max(self._next, moment)


class HHClient:
    """GET JSON documents from the hh.ru API (or a mirror / test server at ``base_url``)."""

    def __init__(
        self,
        base_url: str,
        user_agent: str,
        *,
        token: str | None = None,
        rate_per_s: float = 2.0,
        timeout_s: float = 15.0,
        retry: RetryPolicy | None = None,
        seed: int | None = None,
    ) -> None:
        if not user_agent.strip():
            raise ValueError("user_agent: the API requires an application name and a contact")
        headers = {"HH-User-Agent": user_agent, "User-Agent": user_agent}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.retries = 0
        self.requests = 0
        self._limiter = RateLimiter(rate_per_s)
        self._rng = random.Random(seed)
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout_s),
            follow_redirects=True,
        )

    def __repr__(self) -> str:
        return f"HHClient(base_url={self.base_url!r})"

    async def __aenter__(self) -> HHClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """The decoded JSON body of ``GET path``; raises :class:`FetchError`."""
        cause, status = "network", None
        for attempt in range(1, self.retry.max_attempts + 1):
            await self._limiter.acquire()
            self.requests += 1
            retry_after: float | None = None
            try:
                response = await self._http.get(path, params=params)
            except httpx.TimeoutException:
                cause, status = "timeout", None
            except httpx.TransportError:
                cause, status = "network", None
            else:
                status = response.status_code
                if status == 200:
                    try:
                        return response.json()
                    except (json.JSONDecodeError, UnicodeDecodeError):
                        cause = "malformed"
                elif status == 429 or status >= 500:
                    cause = "rate_limited" if status == 429 else "http_5xx"
                    retry_after = self._retry_after(response)
                else:
                    raise self._final_error(path, response)
            if attempt == self.retry.max_attempts:
                break
            delay = self.retry.backoff(attempt, self._rng)
            if retry_after is not None:
                delay = max(delay, retry_after)
            if cause == "rate_limited":
                self._limiter.pause_until(time.monotonic() + delay)
            self.retries += 1
            await asyncio.sleep(delay)
        raise FetchError(cause, path, status, f"gave up after {self.retry.max_attempts} attempts")

    def _retry_after(self, response: httpx.Response) -> float | None:
        """Seconds the server asked us to wait (delta-seconds or HTTP-date), capped."""
        raw = response.headers.get("Retry-After")
        if not raw:
            return None
        try:
            seconds = float(raw)
        except ValueError:
            try:
                seconds = parsedate_to_datetime(raw).timestamp() - time.time()
            except (TypeError, ValueError):
                return None
        return min(max(seconds, 0.0), self.retry.max_retry_after_s)

    @staticmethod
    def _final_error(path: str, response: httpx.Response) -> FetchError:
        """A 4xx other than 429: name it from the API's ``errors`` list, never retry it."""
        status = response.status_code
        types = _error_types(response)
        if status == 404:
            cause = "not_found"
        elif any(t.partition(":")[0] == "captcha_required" for t in types):
            cause = "captcha_required"
        elif status == 400:
            cause = "bad_request"
        elif status == 403:
            cause = "forbidden"
        else:
            cause = "http_4xx"
        return FetchError(cause, path, status, ", ".join(types))


def _error_types(response: httpx.Response) -> list[str]:
    """``type:value`` of each entry in the API's error body; empty when it is not JSON."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return []
    errors = body.get("errors") if isinstance(body, dict) else None
    found: list[str] = []
    for error in errors if isinstance(errors, list) else ():
        if isinstance(error, dict) and isinstance(error.get("type"), str):
            value = error.get("value")
            found.append(f"{error['type']}:{value}" if isinstance(value, str) else error["type"])
    return found
