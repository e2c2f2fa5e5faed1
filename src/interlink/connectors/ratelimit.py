"""Rate budgets: one per vendor account, shared by every process that uses the same storage.

In production the storage is Redis (the broker), so all web and worker processes draw from one budget per
HubSpot portal or Accelo deployment; in the embedded default it is memory. Built on the ``limits`` library's
moving window. ``acquire`` blocks until every window has room, so callers never see the vendor's 429 in
normal operation; ``pause`` stops everyone when the vendor says the budget is gone (a 429, or a remaining
count of zero in its headers). ``share`` lets bulk jobs use only part of each window, leaving headroom for
live syncing.
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import redis
from limits import RateLimitItemPerSecond
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    name: str
    amount: int
    per_seconds: int


class BudgetExceeded(Exception):
    """``acquire`` would have to wait longer than the caller allowed."""

    def __init__(self, wait_seconds: float) -> None:
        super().__init__(f"the rate budget has no room for {wait_seconds:.1f}s")
        self.wait_seconds = wait_seconds


_storages: dict[str, Storage] = {}
_memory_pauses: dict[str, float] = {}
_storages_lock = threading.Lock()


def _storage(uri: str) -> Storage:
    with _storages_lock:
        if uri not in _storages:
            storage = storage_from_string(uri)
            assert isinstance(storage, Storage), "synchronous storage expected"
            _storages[uri] = storage
        return _storages[uri]


def forget_memory_budgets() -> None:
    """Empty the in-process budgets (each test world starts with full budgets; never needed in production,
    where a process's budgets live as long as it does)."""
    with _storages_lock:
        storage = _storages.get("memory://")
    if storage is not None:
        storage.reset()
    _memory_pauses.clear()


class RateBudget:
    def __init__(
        self,
        key: str,
        limits: Sequence[Limit],
        *,
        storage_uri: str = "memory://",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.key = key
        self.limits = {limit.name: limit for limit in limits}
        self.storage_uri = storage_uri
        self._limiter = MovingWindowRateLimiter(_storage(storage_uri))
        self._sleep = sleep
        self._redis = redis.Redis.from_url(storage_uri) if storage_uri.startswith("redis") else None

    # -- pausing ------------------------------------------------------------------------------------------
    def pause(self, seconds: float, reason: str = "") -> None:
        """Nobody spends from this budget for ``seconds`` (all processes, when the storage is shared)."""
        if seconds <= 0:
            return
        until = time.time() + seconds
        if self._redis is not None:
            key = f"interlink:pause:{self.key}"
            current: bytes | None = self._redis.get(key)  # type: ignore[assignment]
            if current is None or float(current) < until:
                self._redis.set(key, repr(until), px=math.ceil(seconds * 1000))
        elif _memory_pauses.get(self.key, 0.0) < until:
            _memory_pauses[self.key] = until
        log.info("rate budget %s paused for %.1fs%s", self.key, seconds, f": {reason}" if reason else "")

    def paused_for(self) -> float:
        if self._redis is not None:
            value: bytes | None = self._redis.get(f"interlink:pause:{self.key}")  # type: ignore[assignment]
            until = float(value) if value is not None else 0.0
        else:
            until = _memory_pauses.get(self.key, 0.0)
        return max(0.0, until - time.time())

    # -- spending -----------------------------------------------------------------------------------------
    def acquire(
        self,
        cost: int = 1,
        *,
        limits: Sequence[str] | None = None,
        share: float = 1.0,
        max_wait: float | None = None,
    ) -> float:
        """Take ``cost`` from every named window (all, by default), waiting for room. Returns seconds waited.

        With ``share < 1`` the caller may use only that fraction of each window (bulk jobs), so the rest is
        always there for live syncing.
        """
        names = list(limits) if limits is not None else list(self.limits)
        waited = 0.0
        while True:
            wait = self.paused_for() or self._try_take(names, cost, share)
            if wait <= 0:
                return waited
            if max_wait is not None and waited + wait > max_wait:
                raise BudgetExceeded(wait)
            wait += random.uniform(0, min(0.05, wait / 10))  # keep processes from waking in lockstep
            self._sleep(wait)
            waited += wait

    def _try_take(self, names: Sequence[str], cost: int, share: float) -> float:
        """Take ``cost`` from each window; 0 on success, else how long until there may be room.

        Each ``hit`` is atomic in the storage (a Lua script on Redis), so concurrent processes can never
        overspend a window. The bulk share and the narrowest windows go first; a miss after earlier hits
        leaves those spent, which errs on the side of calling less, never more.
        """
        checks: list[tuple[RateLimitItemPerSecond, str]] = []
        for name in sorted(names, key=lambda n: self.limits[n].per_seconds):
            limit = self.limits[name]
            if share < 1.0:
                shared = RateLimitItemPerSecond(max(1, int(limit.amount * share)), limit.per_seconds)
                checks.append((shared, name + ":share"))
            checks.append((RateLimitItemPerSecond(limit.amount, limit.per_seconds), name))
        for item, window in checks:
            if not self._limiter.hit(item, self.key, window, cost=cost):
                stats = self._limiter.get_window_stats(item, self.key, window)
                return max(0.01, stats.reset_time - time.time())
        return 0.0

    def remaining(self, name: str) -> int:
        limit = self.limits[name]
        return int(
            self._limiter.get_window_stats(
                RateLimitItemPerSecond(limit.amount, limit.per_seconds), self.key, name
            ).remaining
        )

    def reset(self) -> None:
        """Forget everything spent (tests, and an admin changing the account's tier)."""
        for name, limit in self.limits.items():
            self._limiter.clear(RateLimitItemPerSecond(limit.amount, limit.per_seconds), self.key, name)
        if self._redis is not None:
            self._redis.delete(f"interlink:pause:{self.key}")
        _memory_pauses.pop(self.key, None)
