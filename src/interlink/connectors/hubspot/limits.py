"""HubSpot's rate limits on our side: the budgets every worker process shares, and what the headers say.

HubSpot enforces (reference/hubspot-api.md §6): a rolling ten-second burst limit per app (100 for Free and
Starter private apps, 190 for Professional and Enterprise, 250 with the API Limit Increase, 110 per
installing account for public OAuth apps); a daily allowance per account that resets at midnight in the
account's time zone (private apps only); and, separately, five searches per second, which are exempt from
the ten-second limit and carry no rate-limit headers.

Two budgets follow from that, both ``RateBudget`` s keyed by portal so every process draws from the same
one (Redis in production): the general one (the burst window) and the search one. Both windows are
``margin_seconds`` longer than HubSpot's: a client window exactly as long as the server's can still be
exceeded at the server, because request N+1 may be sent just after request 1's window closes and yet
arrive sooner after it than request 1 did (latency jitter). A window one second longer absorbs up to a
second of jitter.

The daily allowance is not a moving window on our side (a 24-hour moving window would stall for most of a
day after a busy evening, while HubSpot resets at midnight). HubSpot tells us what is left in
``X-HubSpot-RateLimit-Daily-Remaining`` on every response; when it reaches zero, or a 429 says ``DAILY``,
the shared budget pauses until the reset, and calls fail fast with ``HubSpotDailyLimitReached`` instead of
blocking a worker for hours.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

import httpx

from interlink.connectors.hubspot.errors import seconds_until_daily_reset
from interlink.connectors.ratelimit import Limit, RateBudget

log = logging.getLogger(__name__)

Tier = Literal["free", "starter", "professional", "enterprise"]

TEN_SECONDLY = "ten_secondly"
SECONDLY = "secondly"

# (burst per ten seconds per app, daily per account) for private apps (USAGE24, USAGE26).
PRIVATE_APP_LIMITS: dict[str, tuple[int, int]] = {
    "free": (100, 250_000),
    "starter": (100, 250_000),
    "professional": (190, 625_000),
    "enterprise": (190, 1_000_000),
}
PUBLIC_APP_BURST = 110  # per installing account; public apps have no daily limit
API_LIMIT_INCREASE_BURST = 250  # does not stack
API_LIMIT_INCREASE_DAILY = 1_000_000  # per purchase (at most two)


@dataclass(frozen=True)
class HubSpotRateLimits:
    """The limits one HubSpot account allows us. ``daily`` is None for public (OAuth) apps."""

    per_interval: int = 100
    interval_seconds: int = 10
    daily: int | None = 250_000
    search_per_second: int = 5
    margin_seconds: int = 1

    @classmethod
    def for_account(
        cls, *, auth_type: Literal["private_app", "oauth"], tier: Tier = "starter", limit_increases: int = 0
    ) -> HubSpotRateLimits:
        if auth_type == "oauth":
            return cls(per_interval=PUBLIC_APP_BURST, daily=None)
        burst, daily = PRIVATE_APP_LIMITS[tier]
        if limit_increases > 0:
            burst = API_LIMIT_INCREASE_BURST
            daily += API_LIMIT_INCREASE_DAILY * min(limit_increases, 2)
        return cls(per_interval=burst, daily=daily)

    def burst_limit(self) -> Limit:
        return Limit(TEN_SECONDLY, self.per_interval, self.interval_seconds + self.margin_seconds)

    def search_limit(self) -> Limit:
        # 5 per (1 + margin) seconds: any one-second window at HubSpot then sees at most 5 arrivals.
        return Limit(SECONDLY, self.search_per_second, 1 + self.margin_seconds)


class BoundedBudget(RateBudget):
    """A ``RateBudget`` whose ``acquire`` gives up after ``max_wait`` seconds instead of blocking on.

    The normal waits are short (the burst window, a 429's pause); a wait longer than ``max_wait`` means the
    daily allowance is gone, which the client turns into ``HubSpotDailyLimitReached``.
    """

    def __init__(
        self,
        key: str,
        limits: Sequence[Limit],
        *,
        storage_uri: str = "memory://",
        max_wait: float = 120.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(key, limits, storage_uri=storage_uri, sleep=sleep)
        self.max_wait = max_wait

    def acquire(
        self,
        cost: int = 1,
        *,
        limits: Sequence[str] | None = None,
        share: float = 1.0,
        max_wait: float | None = None,
    ) -> float:
        return super().acquire(
            cost, limits=limits, share=share, max_wait=self.max_wait if max_wait is None else max_wait
        )


def hubspot_budgets(
    portal_id: int, limits: HubSpotRateLimits, *, storage_uri: str = "memory://", max_wait: float = 120.0
) -> tuple[BoundedBudget, BoundedBudget]:
    """The (general, search) budgets of one HubSpot account, shared by every process on ``storage_uri``."""
    general = BoundedBudget(f"hubspot:{portal_id}", [limits.burst_limit()], storage_uri=storage_uri, max_wait=max_wait)
    search = BoundedBudget(
        f"hubspot:{portal_id}:search", [limits.search_limit()], storage_uri=storage_uri, max_wait=max_wait
    )
    return general, search


@dataclass(frozen=True)
class RateLimitSnapshot:
    """What the last response's ``X-HubSpot-RateLimit-*`` headers said (daily ones absent for OAuth)."""

    max: int | None
    remaining: int | None
    interval_milliseconds: int | None
    daily: int | None
    daily_remaining: int | None
    observed_at: float


def _int_header(headers: httpx.Headers, name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


class RateLimitHeaders:
    """Feeds the shared budget from HubSpot's headers (the ``observe_headers`` hook of ``VendorHttp``).

    - ``Daily-Remaining`` at zero: pause every process until the daily reset.
    - ``Remaining`` at zero (someone outside our budget is spending, or the account's limit is lower than
      configured): pause for a second rather than walk into a 429.
    A ``Max`` lower than the configured burst is logged once: the account is on a smaller tier than the
    connection says, and the budget should be rebuilt with the right limits.
    """

    def __init__(self, configured: HubSpotRateLimits, *, daily_reset_zone: ZoneInfo | None = None) -> None:
        self.configured = configured
        self.daily_reset_zone = daily_reset_zone
        self.last: RateLimitSnapshot | None = None
        self._warned = False
        self._lock = threading.Lock()

    def observe(self, response: httpx.Response, budget: RateBudget) -> None:
        headers = response.headers
        if "x-hubspot-ratelimit-max" not in headers and "x-hubspot-ratelimit-daily" not in headers:
            return
        snapshot = RateLimitSnapshot(
            max=_int_header(headers, "x-hubspot-ratelimit-max"),
            remaining=_int_header(headers, "x-hubspot-ratelimit-remaining"),
            interval_milliseconds=_int_header(headers, "x-hubspot-ratelimit-interval-milliseconds"),
            daily=_int_header(headers, "x-hubspot-ratelimit-daily"),
            daily_remaining=_int_header(headers, "x-hubspot-ratelimit-daily-remaining"),
            observed_at=time.time(),
        )
        with self._lock:
            self.last = snapshot
            warn = snapshot.max is not None and snapshot.max < self.configured.per_interval and not self._warned
            self._warned = self._warned or warn
        if warn:
            log.warning(
                "HubSpot allows %s calls per window but the connection is configured for %s; "
                "set the account's tier so the shared budget matches",
                snapshot.max,
                self.configured.per_interval,
            )
        if response.status_code == 429:
            return  # the classified 429 pauses the budget itself, for the policy it names
        if snapshot.daily_remaining is not None and snapshot.daily_remaining <= 0:
            budget.pause(seconds_until_daily_reset(self.daily_reset_zone), reason="daily allowance spent")
        elif snapshot.remaining is not None and snapshot.remaining <= 0:
            budget.pause(1.0, reason="HubSpot reports no calls left in the window")
