"""The shared budget keeps the client under HubSpot's limits, proven by the simulator's own accounting.

The burst test runs time-compressed (a one-second window instead of ten); ``bench/hubspot_ratelimit.py``
runs the same burst at full scale (100 per 10 s) and prints the figures.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from interlink.connectors.hubspot.errors import HubSpotDailyLimitReached, HubSpotRateLimited
from interlink.connectors.hubspot.limits import HubSpotRateLimits
from interlink.simulators.hubspot import RateLimitSettings
from tests.connectors.hubspot.support import client_for, new_simulator, served


def test_a_burst_of_1000_calls_never_goes_over_the_limit_and_sees_no_429() -> None:
    simulator = new_simulator(rate_limits=RateLimitSettings(per_interval=100, interval_ms=1_000, daily=None))
    ids = simulator.seed("contacts", [{"email": f"b{n}@example.com"} for n in range(50)])
    limits = HubSpotRateLimits(per_interval=100, interval_seconds=1, daily=None)
    try:
        with served(simulator, "loopback") as (base_url, http):
            client = client_for(base_url, http, limits=limits)
            started = time.monotonic()
            with ThreadPoolExecutor(max_workers=8) as pool:
                fetched = list(pool.map(lambda n: client.contacts.get(ids[n % 50]).id, range(1_000)))
            elapsed = time.monotonic() - started
    finally:
        simulator.close()
    stats = simulator.limits.stats
    assert len(fetched) == 1_000
    assert stats.rejected == {}  # HubSpot never had to say no, so nothing was retried either
    assert stats.peak <= 100
    assert stats.accepted == 1_000
    # 100 per client window of 2 s (1 s + the 1 s margin): nine full windows of waiting at least.
    assert elapsed >= 9 * 2 - 0.5


def test_searches_have_their_own_budget() -> None:
    simulator = new_simulator(rate_limits=RateLimitSettings(per_interval=100, interval_ms=10_000, search_per_second=5))
    simulator.seed("companies", [{"name": f"C{n}"} for n in range(3)])
    try:
        with served(simulator, "in_process") as (base_url, http):
            client = client_for(base_url, http, limits=HubSpotRateLimits(per_interval=100, daily=None))
            searches = threading.Thread(target=lambda: [list(client.companies.search()) for _ in range(11)])
            searches.start()
            for _ in range(50):
                client.companies.page()  # not held up by the search budget
            assert searches.is_alive()
            searches.join()
    finally:
        simulator.close()
    stats = simulator.limits.stats
    assert stats.searches == 11
    assert stats.search_peak <= 5
    assert stats.rejected == {}
    assert stats.accepted == 50  # searches do not count against the ten-second window


def test_a_smaller_real_limit_is_learnt_from_the_headers(caplog: pytest.LogCaptureFixture) -> None:
    simulator = new_simulator(rate_limits=RateLimitSettings(per_interval=20, interval_ms=1_000, daily=None))
    try:
        with served(simulator, "in_process") as (base_url, http):
            # configured for Enterprise, but the account allows 20 per window
            client = client_for(
                base_url, http, limits=HubSpotRateLimits(per_interval=190, interval_seconds=1, daily=None)
            )
            with caplog.at_level(logging.WARNING):
                for _ in range(45):
                    list(client.deals.iterate())
    finally:
        simulator.close()
    assert "HubSpot allows 20 calls per window but the connection is configured for 190" in caplog.text
    assert simulator.limits.stats.accepted == 45  # every call got through; any 429 was waited out


def test_a_spent_daily_allowance_stops_calls_without_sending_them() -> None:
    simulator = new_simulator(rate_limits=RateLimitSettings(per_interval=None, daily=5))
    try:
        with served(simulator, "in_process") as (base_url, http):
            client = client_for(base_url, http, limits=HubSpotRateLimits(per_interval=100))
            for _ in range(5):
                client.contacts.page()
            assert client.rate_limits is not None
            assert client.rate_limits.daily_remaining == 0
            started = time.monotonic()
            with pytest.raises(HubSpotDailyLimitReached) as stopped:
                client.contacts.page()
            assert time.monotonic() - started < 1.0
            assert stopped.value.retry_after is not None
            assert stopped.value.retry_after > 0
            client.transport.budget.reset()
    finally:
        simulator.close()
    assert simulator.limits.stats.rejected == {}  # stopped on our side: HubSpot never saw call six


def test_a_bulk_view_leaves_headroom_for_live_syncing() -> None:
    simulator = new_simulator()
    try:
        with served(simulator, "in_process") as (base_url, http):
            client = client_for(
                base_url, http, limits=HubSpotRateLimits(per_interval=10, interval_seconds=60, daily=None)
            )
            bulk = client.bulk(share=0.5)
            bulk.transport.budget.max_wait = 0.0  # report "no room" instead of waiting a minute
            for _ in range(5):
                bulk.contacts.page()
            with pytest.raises(HubSpotRateLimited, match="no room"):
                bulk.contacts.page()
            for _ in range(5):
                client.contacts.page()  # live traffic still has its half
    finally:
        simulator.close()
    assert simulator.calls.count() == 10
