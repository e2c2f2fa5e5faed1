"""The shared connector plumbing: rate budgets, retrying requests, error classification."""

from __future__ import annotations

import contextlib
import threading
import time
import uuid

import httpx
import pytest

from interlink.connectors.errors import (
    ConnectorError,
    InvalidRequest,
    MalformedResponse,
    RateLimited,
    ServerError,
    TransportFailure,
)
from interlink.connectors.http import RetryPolicy, VendorHttp, json_body
from interlink.connectors.ratelimit import BudgetExceeded, Limit, RateBudget
from tests.fixtures.services import require_redis


def budget(storage: str = "memory://", amount: int = 5, per: int = 2) -> RateBudget:
    return RateBudget(f"test:{uuid.uuid4().hex}", [Limit("window", amount, per)], storage_uri=storage)


class TestRateBudget:
    def test_waits_for_room_instead_of_overspending(self) -> None:
        limited = budget(amount=3, per=1)
        started = time.monotonic()
        stamps = []
        for _ in range(7):
            limited.acquire()
            stamps.append(time.monotonic() - started)
        assert stamps[2] < 0.5  # the first three go at once
        assert stamps[3] >= 0.9  # the fourth waits for the window
        for i in range(len(stamps) - 3):
            assert stamps[i + 3] - stamps[i] >= 0.95  # never four inside one second

    def test_a_bulk_share_leaves_headroom_for_live_traffic(self) -> None:
        limited = budget(amount=10, per=60)
        for _ in range(7):
            limited.acquire(share=0.7, max_wait=0)
        with pytest.raises(BudgetExceeded):
            limited.acquire(share=0.7, max_wait=0)
        for _ in range(3):  # live syncing still gets through
            limited.acquire(max_wait=0)
        with pytest.raises(BudgetExceeded):
            limited.acquire(max_wait=0)

    def test_a_pause_stops_spending(self) -> None:
        limited = budget(amount=100, per=10)
        limited.pause(0.4, "429 from the vendor")
        started = time.monotonic()
        limited.acquire()
        assert time.monotonic() - started >= 0.35

    @pytest.mark.redis
    def test_processes_sharing_redis_share_one_budget(self) -> None:
        url = require_redis()
        key = f"test:{uuid.uuid4().hex}"
        first = RateBudget(key, [Limit("window", 20, 60)], storage_uri=url)
        second = RateBudget(key, [Limit("window", 20, 60)], storage_uri=url)
        taken = []

        def spend(b: RateBudget) -> None:
            for _ in range(15):
                try:
                    b.acquire(max_wait=0)
                    taken.append(1)
                except BudgetExceeded:
                    pass

        threads = [threading.Thread(target=spend, args=(b,)) for b in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(taken) == 20
        first.pause(0.3)
        assert second.paused_for() > 0.1
        first.reset()


def classify(response: httpx.Response) -> ConnectorError | None:
    if response.status_code == 429:
        return RateLimited("slow down", retry_after=float(response.headers.get("retry-after", 0)) or None)
    if response.status_code >= 500:
        return ServerError("boom", status_code=response.status_code)
    if response.status_code >= 400:
        return InvalidRequest("bad", status_code=response.status_code)
    return None


def scripted(*statuses: int) -> tuple[httpx.Client, list[int]]:
    seen: list[int] = []
    queue = list(statuses)

    def handler(request: httpx.Request) -> httpx.Response:
        status = queue.pop(0) if queue else 200
        seen.append(status)
        headers = {"retry-after": "0.2"} if status == 429 else {}
        return httpx.Response(status, json={"ok": status == 200}, headers=headers)

    return httpx.Client(transport=httpx.MockTransport(handler), base_url="http://vendor.test"), seen


class TestVendorHttp:
    def test_retries_server_errors_and_rate_limits_then_succeeds(self) -> None:
        client, seen = scripted(503, 429, 500)
        calls: list[tuple[str, int | None]] = []
        http = VendorHttp(
            client,
            vendor="test",
            budget=budget(amount=100, per=10),
            classify=classify,
            retry=RetryPolicy(base_seconds=0.01),
            observer=lambda **kw: calls.append((kw["route"], kw["status"])),
        )
        assert http.send("GET", "/things", route="/things").json() == {"ok": True}
        assert seen == [503, 429, 500, 200]
        assert calls == [("/things", 503), ("/things", 429), ("/things", 500), ("/things", 200)]

    def test_client_errors_are_not_retried(self) -> None:
        client, seen = scripted(400)
        http = VendorHttp(client, vendor="test", budget=budget(), classify=classify)
        with pytest.raises(InvalidRequest):
            http.send("GET", "/x", route="/x")
        assert seen == [400]

    def test_gives_up_after_the_policy_attempts(self) -> None:
        client, seen = scripted(*([502] * 10))
        http = VendorHttp(
            client,
            vendor="test",
            budget=budget(),
            classify=classify,
            retry=RetryPolicy(attempts=3, base_seconds=0.01),
        )
        with pytest.raises(ServerError):
            http.send("GET", "/x", route="/x")
        assert len(seen) == 3

    def test_a_post_is_sent_again_only_when_the_vendor_cannot_have_acted_on_it(self) -> None:
        """A 5xx or a timeout may come after the vendor made the record; a 429 or a refused connection not."""
        attempts: list[str] = []
        script: list[Exception | int] = []

        def handler(request: httpx.Request) -> httpx.Response:
            attempts.append(request.method)
            step = script.pop(0) if script else 200
            if isinstance(step, Exception):
                raise step
            return httpx.Response(step, json={}, headers={"retry-after": "0.01"} if step == 429 else {})

        http = VendorHttp(
            httpx.Client(transport=httpx.MockTransport(handler), base_url="http://vendor.test"),
            vendor="test",
            budget=budget(amount=100, per=10),
            classify=classify,
            retry=RetryPolicy(base_seconds=0.01),
        )

        def sent(method: str, *steps: Exception | int, idempotent: bool | None = None) -> int:
            attempts.clear()
            script[:] = steps
            with contextlib.suppress(ServerError, TransportFailure):
                http.send(method, "/things", route="/things", idempotent=idempotent)
            return len(attempts)

        assert sent("POST", 503) == 1
        assert sent("POST", httpx.ReadTimeout("no answer")) == 1
        assert sent("POST", httpx.RemoteProtocolError("reset mid-answer")) == 1
        assert sent("POST", 429, 200) == 2
        assert sent("POST", httpx.ConnectError("refused"), httpx.ConnectTimeout("no route"), 200) == 3
        assert sent("POST", 503, httpx.ReadTimeout("no answer"), 200, idempotent=True) == 3  # a search, a read
        assert sent("PATCH", 503, 200) == 2
        assert sent("PUT", httpx.ReadTimeout("no answer"), 200) == 2

    def test_html_instead_of_json_is_a_malformed_response(self) -> None:
        response = httpx.Response(
            502, text="<html><body>Bad gateway</body></html>", headers={"content-type": "text/html"}
        )
        with pytest.raises(MalformedResponse, match="expected JSON, got text/html"):
            json_body(response)
