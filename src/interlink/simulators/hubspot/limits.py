"""HubSpot's rate limits, enforced like HubSpot enforces them (reference/hubspot-api.md §6, §2.6).

- A rolling window per token (``per_interval`` calls per ``interval_ms``, 100 per 10 s by default);
- a daily allowance for the account (private-app tokens only; it resets at UTC midnight here);
- searches: ``search_per_second`` per token in a rolling second, exempt from the window above, and
  answered without ``X-HubSpot-RateLimit-*`` headers.

Rejected calls are answered 429 with HubSpot's bodies and do not count. The limiter keeps its own
accounting, so a test can prove a client never went over: ``peak`` is the most calls accepted inside any
one window, ``rejected`` counts 429s by policy.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from interlink.simulators.hubspot.wire import SimError

TEN_SECONDLY_MESSAGE = "You have reached your ten_secondly_rolling limit."


def rate_limited(policy: str, message: str, headers: dict[str, str]) -> SimError:
    """HubSpot's 429 for one of its limits (``policyName`` says which)."""
    body = {"errorType": "RATE_LIMIT", "policyName": policy, "requestId": str(uuid.uuid4())}
    if policy == "TEN_SECONDLY_ROLLING":
        body["groupName"] = "publicapi:private-app-api-calls-ten-secondly"
    return SimError(429, None, message, extra=body, headers=headers)


@dataclass
class RateLimitSettings:
    per_interval: int | None = 100  # None: no window limit
    interval_ms: int = 10_000
    daily: int | None = 250_000
    search_per_second: int | None = 5


@dataclass
class RateLimitStats:
    peak: int = 0  # most calls accepted within one window (any token)
    search_peak: int = 0  # most searches accepted within one second
    accepted: int = 0
    searches: int = 0
    daily_used: int = 0
    rejected: dict[str, int] = field(default_factory=dict)


@dataclass
class Verdict:
    headers: dict[str, str]
    error: SimError | None = None


class RateLimiter:
    def __init__(
        self, settings: RateLimitSettings | None = None, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.settings = settings or RateLimitSettings()
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._windows: dict[str, deque[float]] = {}
            self._searches: dict[str, deque[float]] = {}
            self._day = self._today()
            self.stats = RateLimitStats()

    def configure(self, **changes: Any) -> RateLimitSettings:
        with self._lock:
            for name, value in changes.items():
                if not hasattr(self.settings, name):
                    raise ValueError(f"unknown rate-limit setting {name!r}")
                setattr(self.settings, name, value)
            return self.settings

    @staticmethod
    def _today() -> str:
        return datetime.now(UTC).strftime("%Y-%m-%d")

    def _reject(self, policy: str, message: str, headers: dict[str, str]) -> Verdict:
        self.stats.rejected[policy] = self.stats.rejected.get(policy, 0) + 1
        return Verdict(headers=headers, error=rate_limited(policy, message, headers))

    def check(self, token: str, *, search: bool, daily_headers: bool) -> Verdict:
        now = self._monotonic()
        settings = self.settings
        with self._lock:
            if search:
                if settings.search_per_second is None:
                    self.stats.searches += 1
                    return Verdict(headers={})
                window = self._searches.setdefault(token, deque())
                while window and window[0] <= now - 1.0:
                    window.popleft()
                if len(window) >= settings.search_per_second:
                    return self._reject("SECONDLY", "You have reached your secondly limit.", {})
                window.append(now)
                self.stats.searches += 1
                self.stats.search_peak = max(self.stats.search_peak, len(window))
                return Verdict(headers={})
            today = self._today()
            if today != self._day:
                self._day, self.stats.daily_used = today, 0
            headers: dict[str, str] = {}
            if settings.daily is not None and daily_headers:
                headers["X-HubSpot-RateLimit-Daily"] = str(settings.daily)
                headers["X-HubSpot-RateLimit-Daily-Remaining"] = str(max(0, settings.daily - self.stats.daily_used))
                if self.stats.daily_used >= settings.daily:
                    return self._reject("DAILY", "You have reached your daily limit.", headers)
            if settings.per_interval is not None:
                interval = settings.interval_ms / 1000
                window = self._windows.setdefault(token, deque())
                while window and window[0] <= now - interval:
                    window.popleft()
                headers["X-HubSpot-RateLimit-Interval-Milliseconds"] = str(settings.interval_ms)
                headers["X-HubSpot-RateLimit-Max"] = str(settings.per_interval)
                if len(window) >= settings.per_interval:
                    headers["X-HubSpot-RateLimit-Remaining"] = "0"
                    return self._reject("TEN_SECONDLY_ROLLING", TEN_SECONDLY_MESSAGE, headers)
                window.append(now)
                headers["X-HubSpot-RateLimit-Remaining"] = str(settings.per_interval - len(window))
                self.stats.peak = max(self.stats.peak, len(window))
            self.stats.accepted += 1
            self.stats.daily_used += 1
            if settings.daily is not None and daily_headers:
                headers["X-HubSpot-RateLimit-Daily-Remaining"] = str(max(0, settings.daily - self.stats.daily_used))
            return Verdict(headers=headers)

    def report(self) -> dict[str, Any]:
        with self._lock:
            return {"settings": asdict(self.settings), "stats": asdict(self.stats)}
