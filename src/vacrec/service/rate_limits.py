"""Per-client rate limits on every endpoint that writes to the logs.

The agent learns from what clients send, so one client that can write
hundreds of rows a second can teach it anything. Each client address gets a
moving-window budget for recommendations (each one stores an event), for
rewards (legacy writes and v1 feedback) and for the dashboard; past it the answer
is 429 with ``Retry-After``, sent ``VACREC_RATE_LIMIT_DELAY_S`` late: a flood of
clients that retry at once (16 of them reloading the dashboard made ~290 answers a
second, and cost the seekers 31 % of their throughput on 2 cores) then gets one
answer a second per connection, and the per-address connection cap bounds how many
it can hold. The counting is the ``limits`` library's.

With the default ``memory://`` storage the counts live in the worker, one
entry per address and rule: :class:`BoundedMemoryStorage` keeps that from
growing with every address a flood can invent.

Behind a reverse proxy the address is the proxy's unless the proxy is named in
``VACREC_TRUSTED_PROXIES`` (see ``service/clients.py`` and the README); an
IPv6 client's budget is its /64's.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from fastapi import Depends, Request
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from vacrec.config import Settings, parse_rate_limit
from vacrec.errors import TooManyRequests
from vacrec.service.clients import client_address, client_subject

RECOMMEND, REWARD, DASHBOARD = "recommendations", "rewards", "dashboard"
MEMORY_SCHEME = "memory://"


class BoundedMemoryStorage(MemoryStorage):
    """``limits``' in-process storage that forgets the least recently used keys beyond a cap.

    The library's memory storage keeps a key (with up to one entry per allowed hit) for
    every address it has seen until that key's window passes, so 100,000 invented
    addresses held over 100 MB for an hour, and its expiry sweep walks every key. Here
    at most ``max_keys`` keys live; a hit moves its key to the young end, so the keys
    dropped are those idle longest.

    Eviction is safe for what the budgets protect: an evicted address merely starts a
    fresh window when it returns, so the worst case is a little more budget for the
    addresses that have been quiet the longest, never less for anyone. An address that
    keeps sending is always among the most recently used and keeps its count, so it
    still meets its 429 however many other addresses appear (as long as fewer than
    ``max_keys`` keys are touched between two of its hits).
    """

    # No STORAGE_SCHEME: not registered as a URI scheme; RateLimits builds it for memory://.

    def __init__(self, max_keys: int) -> None:
        super().__init__()
        self.max_keys = max_keys
        self._recent: OrderedDict[str, None] = OrderedDict()

    @property
    def key_count(self) -> int:
        """Keys held now: counters (fixed windows) and entry lists (moving windows)."""
        return len(set(self.storage) | set(self.events))

    async def _touch(self, key: str) -> None:
        self._recent[key] = None
        self._recent.move_to_end(key)
        while len(self._recent) > self.max_keys:
            oldest, _ = self._recent.popitem(last=False)
            await self.clear(oldest)

    async def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        await self._touch(key)
        return await super().acquire_entry(key, limit, expiry, amount)

    async def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        await self._touch(key)
        return await super().incr(key, expiry, amount)

    async def clear(self, key: str) -> None:
        self._recent.pop(key, None)
        await super().clear(key)

    async def reset(self) -> int | None:
        self._recent.clear()
        return await super().reset()


def limits_storage(settings: Settings) -> Storage:
    """The storage the budgets count in: bounded in memory, or the URI's shared one."""
    uri = settings.rate_limit_storage
    if uri.strip().lower().startswith(MEMORY_SCHEME):
        return BoundedMemoryStorage(settings.rate_limit_max_keys)
    storage = storage_from_string(f"async+{uri}")
    if not isinstance(storage, Storage):  # the async+ schemes all name asyncio storages
        raise TypeError(f"rate-limit storage {uri!r} is not an asyncio storage")
    return storage


class RateLimits:
    """The budgets of one serving process (shared across processes with a shared storage)."""

    def __init__(self, settings: Settings) -> None:
        self._rules = {
            RECOMMEND: parse_rate_limit(settings.rate_limit_recommendations),
            REWARD: parse_rate_limit(settings.rate_limit_rewards),
            DASHBOARD: parse_rate_limit(settings.rate_limit_dashboard),
        }
        self.storage = limits_storage(settings)
        self._limiter = MovingWindowRateLimiter(self.storage)
        self._over_budget_delay_s = settings.rate_limit_delay_s

    async def hit(self, rule: str, client: str) -> None:
        """Count one request of ``client`` against ``rule``; TooManyRequests when over budget,
        raised after the over-budget delay (only this request waits: the event loop does not)."""
        for limit in self._rules[rule]:
            if not await self._limiter.hit(limit, rule, client):
                stats = await self._limiter.get_window_stats(limit, rule, client)
                wait_s = max(1, math.ceil(stats.reset_time - time.time()))
                await asyncio.sleep(min(self._over_budget_delay_s, wait_s))
                raise TooManyRequests(
                    f"too many {rule} from {client}: at most {limit}; retry in {wait_s} s",
                    retry_after_s=wait_s,
                )


def rate_limited(rule: str) -> Callable[[Request], Awaitable[None]]:
    """A route dependency that spends one unit of ``rule``'s budget per request."""

    async def check(request: Request) -> None:
        limits: RateLimits = request.app.state.rate_limits
        await limits.hit(rule, client_subject(client_address(request)))

    return check


RECOMMEND_BUDGET = Depends(rate_limited(RECOMMEND))
REWARD_BUDGET = Depends(rate_limited(REWARD))
DASHBOARD_BUDGET = Depends(rate_limited(DASHBOARD))
