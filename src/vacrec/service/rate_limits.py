"""Per-client rate limits on every endpoint that writes to the logs.

The agent learns from what clients send, so one client that can write
hundreds of rows a second can teach it anything. Each client address gets a
moving-window budget for recommendations (each one stores an event) and for
rewards (legacy writes and v1 feedback); past it the answer is 429 with
``Retry-After``. The counting is the ``limits`` library's.

Behind a reverse proxy the address is the proxy's unless the proxy is named in
``VACREC_TRUSTED_PROXIES`` (see ``service/clients.py`` and the README); an
IPv6 client's budget is its /64's.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable

from fastapi import Depends, Request
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from vacrec.config import Settings, parse_rate_limit
from vacrec.errors import TooManyRequests
from vacrec.service.clients import client_address, client_subject

RECOMMEND, REWARD = "recommendations", "rewards"


class RateLimits:
    """The budgets of one serving process (shared across processes with a shared storage)."""

    def __init__(self, settings: Settings) -> None:
        self._rules = {
            RECOMMEND: parse_rate_limit(settings.rate_limit_recommendations),
            REWARD: parse_rate_limit(settings.rate_limit_rewards),
        }
        self._limiter = MovingWindowRateLimiter(
            storage_from_string(f"async+{settings.rate_limit_storage}")
        )

    async def hit(self, rule: str, client: str) -> None:
        """Count one request of ``client`` against ``rule``; TooManyRequests when over budget."""
        for limit in self._rules[rule]:
            if not await self._limiter.hit(limit, rule, client):
                stats = await self._limiter.get_window_stats(limit, rule, client)
                wait_s = max(1, math.ceil(stats.reset_time - time.time()))
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
