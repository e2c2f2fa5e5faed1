"""What every simulator shares: counting calls per route, and delivering signed webhooks with retries."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)


def route_path(scope: Scope) -> str:
    """The request's path inside this app: under a ``Mount`` Starlette keeps the full path in ``path`` and
    the mount's prefix in ``root_path`` (so a simulator mounted at ``/sim/hubspot`` still sees ``/crm/...``)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


class CallLog:
    """Counts of calls per (method, route template, status); benchmarks count API calls with it."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str, int]] = Counter()
        self._lock = threading.Lock()

    def record(self, method: str, route: str, status: int) -> None:
        with self._lock:
            self._counts[(method, route, status)] += 1

    def count(self, *, method: str | None = None, route: str | None = None, status: int | None = None) -> int:
        with self._lock:
            return sum(
                n
                for (m, r, s), n in self._counts.items()
                if (method is None or m == method) and (route is None or r == route) and (status is None or s == status)
            )

    def snapshot(self) -> list[dict[str, object]]:
        with self._lock:
            return [{"method": m, "route": r, "status": s, "count": n} for (m, r, s), n in sorted(self._counts.items())]

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()


class CallCountingMiddleware:
    """Records every vendor-API request under its route template (``/crm/v3/objects/{objectType}/{id}``)."""

    def __init__(self, app: ASGIApp, calls: CallLog, *, ignore_prefixes: Sequence[str] = ("/_sim",)) -> None:
        self.app = app
        self.calls = calls
        self.ignore_prefixes = tuple(ignore_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or route_path(scope).startswith(self.ignore_prefixes):
            await self.app(scope, receive, send)
            return
        recorded = False

        def note(status: int) -> None:
            nonlocal recorded
            if not recorded:
                recorded = True
                route = scope.get("route")
                self.calls.record(scope["method"], getattr(route, "path", None) or route_path(scope), status)

        async def send_and_note(message: Message) -> None:
            # Counted before the answer leaves: a caller that reads the count right after its call sees it.
            if message["type"] == "http.response.start":
                note(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            note(500)  # the app raised before answering


# -- webhook delivery --------------------------------------------------------------------------------------

Verdict = Literal["delivered", "retry", "drop", "gone"]


@dataclass
class Delivery:
    """One webhook POST. ``build(attempt)`` makes the body and headers for that attempt (HubSpot counts
    attempts in the payload; signatures carry the send time). ``judge`` reads the target's answer (None when
    there was none: refused, timed out)."""

    url: str
    build: Callable[[int], tuple[bytes, dict[str, str]]]
    judge: Callable[[httpx.Response | None], Verdict]
    on_gone: Callable[[], None] | None = None
    attempts: int = 0
    outcomes: list[str] = field(default_factory=list)


class WebhookDeliverer:
    """Delivers webhooks on a background thread, retrying on the given schedule (compressible for tests)."""

    def __init__(
        self,
        client_for: Callable[[str], httpx.Client],
        *,
        retry_delays: Sequence[float],
        timeout: float = 5.0,
    ) -> None:
        self.client_for = client_for
        self.retry_delays = list(retry_delays)
        self.timeout = timeout
        self._queue: list[tuple[float, int, Delivery]] = []
        self._sequence = itertools.count()
        self._condition = threading.Condition()
        self._in_flight = 0
        self._stopped = False
        self.delivered: list[Delivery] = []
        self.abandoned: list[Delivery] = []
        self._thread = threading.Thread(target=self._run, name="simulator-webhooks", daemon=True)
        self._thread.start()

    def submit(self, delivery: Delivery, *, delay: float = 0.0) -> None:
        with self._condition:
            heapq.heappush(self._queue, (time.monotonic() + delay, next(self._sequence), delivery))
            self._condition.notify_all()

    def pending(self) -> int:
        with self._condition:
            return len(self._queue) + self._in_flight

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until everything queued (retries included) has been delivered or given up on."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while self._queue or self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._condition.wait(min(remaining, 0.05))
        return True

    def clear(self) -> None:
        with self._condition:
            self._queue.clear()
            self.delivered.clear()
            self.abandoned.clear()

    def close(self) -> None:
        with self._condition:
            self._stopped = True
            self._condition.notify_all()
        self._thread.join(5)

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._stopped and (not self._queue or self._queue[0][0] > time.monotonic()):
                    wait = self._queue[0][0] - time.monotonic() if self._queue else None
                    self._condition.wait(wait if wait is None else max(0.0, wait))
                if self._stopped:
                    return
                _, _, delivery = heapq.heappop(self._queue)
                self._in_flight += 1
            try:
                self._attempt(delivery)
            except Exception:  # a bug in a judge or builder must not kill the delivery thread
                log.exception("webhook delivery to %s failed unexpectedly", delivery.url)
            finally:
                with self._condition:
                    self._in_flight -= 1
                    self._condition.notify_all()

    def _attempt(self, delivery: Delivery) -> None:
        body, headers = delivery.build(delivery.attempts)
        response: httpx.Response | None
        try:
            response = self.client_for(delivery.url).post(
                delivery.url, content=body, headers=headers, timeout=self.timeout
            )
        except httpx.HTTPError as exc:
            response = None
            delivery.outcomes.append(type(exc).__name__)
        else:
            delivery.outcomes.append(str(response.status_code))
        verdict = delivery.judge(response)
        delivery.attempts += 1
        if verdict == "delivered":
            self.delivered.append(delivery)
        elif verdict == "gone":
            self.abandoned.append(delivery)
            if delivery.on_gone is not None:
                delivery.on_gone()
        elif verdict == "retry" and delivery.attempts <= len(self.retry_delays):
            self.submit(delivery, delay=self.retry_delays[delivery.attempts - 1])
        else:
            self.abandoned.append(delivery)
