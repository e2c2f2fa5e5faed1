"""The deployment's rate limit: Accelo's 5,000 requests an hour, with a window tests can compress.

Enforced as a sliding window, which is at least as strict as Accelo's (its ``X-RateLimit-Reset`` suggests
a fixed window; a client that never exceeds a sliding window never exceeds a fixed one). Every counted
request's arrival time is kept, so ``max_in_any_window`` can prove after the fact that no window held more
than the limit, rejected requests included.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # unix seconds when a slot frees up

    def headers(self) -> list[tuple[bytes, bytes]]:
        return [
            (b"x-ratelimit-limit", str(self.limit).encode()),
            (b"x-ratelimit-remaining", str(self.remaining).encode()),
            (b"x-ratelimit-reset", str(self.reset).encode()),
        ]


class DeploymentRateLimit:
    def __init__(
        self, limit: int = 5000, window_seconds: float = 3600.0, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self.clock = clock
        self.enabled = True
        self._accepted: deque[float] = deque()
        self._arrivals: list[float] = []
        self.rejected = 0
        self._lock = threading.Lock()

    def configure(
        self, *, limit: int | None = None, window_seconds: float | None = None, enabled: bool | None = None
    ) -> None:
        with self._lock:
            if limit is not None:
                self.limit = limit
            if window_seconds is not None:
                self.window_seconds = window_seconds
            if enabled is not None:
                self.enabled = enabled

    def check(self) -> Verdict:
        """Count one request and say whether it may go ahead."""
        now = self.clock()
        with self._lock:
            self._arrivals.append(now)
            accepted = self._accepted
            while accepted and accepted[0] <= now - self.window_seconds:
                accepted.popleft()
            if self.enabled and len(accepted) >= self.limit:
                self.rejected += 1
                return Verdict(False, self.limit, 0, math.ceil(accepted[0] + self.window_seconds))
            accepted.append(now)
            reset = math.ceil(accepted[0] + self.window_seconds)
            return Verdict(True, self.limit, max(0, self.limit - len(accepted)), reset)

    def max_in_any_window(self) -> int:
        """The most requests (accepted or not) that arrived within any one window's length."""
        with self._lock:
            arrivals = sorted(self._arrivals)
            window = self.window_seconds
        most = 0
        start = 0
        for end, stamp in enumerate(arrivals):
            while arrivals[start] <= stamp - window:
                start += 1
            most = max(most, end - start + 1)
        return most

    def stats(self) -> dict[str, float | int | bool]:
        with self._lock:
            counted = len(self._arrivals)
        return {
            "limit": self.limit,
            "window_seconds": self.window_seconds,
            "enabled": self.enabled,
            "counted": counted,
            "rejected": self.rejected,
            "max_in_any_window": self.max_in_any_window(),
        }

    def reset(self) -> None:
        with self._lock:
            self._accepted.clear()
            self._arrivals.clear()
            self.rejected = 0
