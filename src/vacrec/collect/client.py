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

A server we cannot reach is a different matter: a refused connection is tried
once more (a restarting server), a host name that does not resolve not at all,
so a wrong ``--api-url`` is reported in a second instead of after the whole
backoff. Every error names the full URL and the real cause.

An OAuth token, when given, goes in ``Authorization: Bearer``; it is never put
in a URL, a log message, an exception or a ``repr``.
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import unquote

import httpx


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try one request. Tests shrink the base delay instead of sleeping seconds."""

    max_attempts: int = 5
    connect_attempts: int = 2
    """For a connection that could not be made at all: more tries would only delay the error."""
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 30.0
    max_retry_after_s: float = 300.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Delay after failed attempt ``attempt`` (1-based): exponential, half of it jittered."""
        ceiling = min(self.backoff_cap_s, self.backoff_base_s * 2.0 ** (attempt - 1))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


class FetchError(Exception):
    """A request that did not yield a usable JSON document: which URL, why, after how many tries.

    ``cause`` is the key counted in summaries: ``not_found``, ``bad_request``,
    ``forbidden``, ``captcha_required``, ``http_4xx``, ``name_not_resolved``
    (never retried) and, once retries are spent, ``rate_limited``, ``http_5xx``,
    ``timeout``, ``connection_refused``, ``network``, ``malformed``. ``reason``
    says the same for people, with the server's own error text when it sent one.
    """

    def __init__(
        self, cause: str, url: str, reason: str, *, status: int | None = None, attempts: int = 1
    ) -> None:
        self.cause = cause
        self.url = url
        self.reason = reason
        self.status = status
        self.attempts = attempts
        tries = f" (gave up after {attempts} attempts)" if attempts > 1 else ""
        super().__init__(f"GET {url}: {reason}{tries}")


@dataclass(frozen=True)
class _Failure:
    """One failed attempt, and how many attempts a failure of its kind deserves."""

    cause: str
    reason: str
    status: int | None = None
    connect: bool = False  # no connection was made: ``RetryPolicy.connect_attempts``
    final: bool = False  # retrying cannot help

    def attempts(self, policy: RetryPolicy) -> int:
        if self.final:
            return 1
        return (
            min(policy.connect_attempts, policy.max_attempts)
            if self.connect
            else policy.max_attempts
        )


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
        parsed = httpx.URL(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError(
                f"API URL {base_url!r}: must be an http:// or https:// URL with a host"
            )
        headers = {"HH-User-Agent": user_agent, "User-Agent": user_agent}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.timeout_s = timeout_s
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

    def url_for(self, path: str, params: dict[str, Any] | None = None) -> str:
        """The full URL of ``GET path``, readable (a Cyrillic query stays Cyrillic)."""
        return unquote(str(self._http.build_request("GET", path, params=params).url))

    async def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """The decoded JSON body of ``GET path``; raises :class:`FetchError`."""
        request = self._http.build_request("GET", path, params=params)
        url = unquote(str(request.url))
        attempt = 0
        while True:
            attempt += 1
            await self._limiter.acquire()
            self.requests += 1
            retry_after: float | None = None
            try:
                response = await self._http.send(request)
            except httpx.TransportError as exc:
                failure = _transport_failure(exc, request.url, self.timeout_s)
            else:
                status = response.status_code
                if status == 200:
                    try:
                        return response.json()
                    except (json.JSONDecodeError, UnicodeDecodeError):
                        failure = _Failure("malformed", "the answer is not valid JSON", status)
                elif status == 429 or status >= 500:
                    cause = "rate_limited" if status == 429 else "http_5xx"
                    failure = _Failure(cause, _http_reason(response), status)
                    retry_after = self._retry_after(response)
                else:
                    raise self._final_error(url, response)
            if attempt >= failure.attempts(self.retry):
                raise FetchError(
                    failure.cause, url, failure.reason, status=failure.status, attempts=attempt
                )
            delay = self.retry.backoff(attempt, self._rng)
            if retry_after is not None:
                delay = max(delay, retry_after)
            if failure.cause == "rate_limited":
                self._limiter.pause_until(time.monotonic() + delay)
            self.retries += 1
            await asyncio.sleep(delay)

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
    def _final_error(url: str, response: httpx.Response) -> FetchError:
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
        return FetchError(cause, url, _http_reason(response), status=status)


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


_TIMEOUT_PHASES = {
    httpx.ConnectTimeout: "connecting",
    httpx.ReadTimeout: "waiting for the answer",
    httpx.WriteTimeout: "sending the request",
    httpx.PoolTimeout: "waiting for a free connection",
}
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _transport_failure(exc: httpx.TransportError, url: httpx.URL, timeout_s: float) -> _Failure:
    """Name what went wrong below HTTP: the resolver, the connection, or the wait."""
    if isinstance(exc, httpx.TimeoutException):
        phase = _TIMEOUT_PHASES.get(type(exc), "")
        reason = f"timed out after {timeout_s:g} s{' ' + phase if phase else ''}"
        return _Failure("timeout", reason, connect=isinstance(exc, httpx.ConnectTimeout))
    causes = list(_os_errors(exc))
    for error in causes:
        if isinstance(error, socket.gaierror):
            # EAI_AGAIN is the resolver's "try again later"; anything else is an answer.
            final = error.errno != socket.EAI_AGAIN
            reason = f"host name {url.host!r} not resolved ({error.strerror or error})"
            return _Failure("name_not_resolved", reason, connect=True, final=final)
    where = f"{url.host}:{url.port or _DEFAULT_PORTS.get(url.scheme, '')}"
    if any(isinstance(error, ConnectionRefusedError) for error in causes):
        return _Failure("connection_refused", f"connection refused by {where}", connect=True)
    if isinstance(exc, httpx.ConnectError):
        detail = next((e.strerror for e in causes if e.strerror), None) or str(exc)
        return _Failure("network", f"cannot connect to {where} ({detail})", connect=True)
    return _Failure("network", f"connection failed: {exc or type(exc).__name__}")


def _os_errors(exc: BaseException) -> Iterator[OSError]:
    """The operating-system errors under an httpx error (causes, contexts, exception groups)."""
    pending: list[BaseException | None] = [exc]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError):
            yield current
        pending += [current.__cause__, current.__context__, *getattr(current, "exceptions", ())]


def _http_reason(response: httpx.Response) -> str:
    """``HTTP 403 Forbidden`` plus what the body says: the API's errors, or a short excerpt."""
    status = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
    types = _error_types(response)
    if types:
        return f"{status}: {', '.join(types)}"
    text = " ".join(response.text.split())
    if not text:
        return status
    return f"{status}: {text[:200]}{'…' if len(text) > 200 else ''}"


TOKEN_VARIABLE = "VACREC_HH_TOKEN"
TOKEN_HELP_URL = "https://dev.hh.ru"


def token_refused_message(error: FetchError, *, has_token: bool) -> str | None:
    """One line for an operator when hh.ru answered 403 (not a captcha), else None.

    hh.ru refuses anonymous vacancy search with 403 since 2026: without a token the fix
    is to get one; with one, the token itself was refused (expired, revoked, wrong).
    """
    if error.status != 403 or error.cause == "captcha_required":
        return None
    if has_token:
        return (
            f"hh.ru refused the application token ({error.reason}): check {TOKEN_VARIABLE} "
            f"— it may be expired or revoked; get a new one at {TOKEN_HELP_URL}"
        )
    return (
        f"hh.ru answered 403 ({error.reason}): it needs an application token — register an "
        f"application at {TOKEN_HELP_URL}, then set {TOKEN_VARIABLE}=<token> "
        "(sent as Authorization: Bearer) and run again"
    )
