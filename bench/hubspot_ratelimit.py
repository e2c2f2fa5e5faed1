"""A burst of HubSpot calls against the simulator at HubSpot's real scale, and what the limiter saw.

    .venv/bin/python bench/hubspot_ratelimit.py [--calls 1000] [--limit 100] [--interval-ms 10000] [--workers 8]

The simulator enforces ``--limit`` calls per rolling ``--interval-ms`` (HubSpot's Free/Starter private-app
limit by default) and counts, on its own side, the most calls it accepted inside any one window and every
429 it answered. The client uses its defaults for that account (windows one second longer than HubSpot's)
and runs over real loopback HTTP with ``--workers`` threads. At full scale this takes about 100 seconds.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.servers import serve_over_loopback

from interlink.connectors.hubspot.client import hubspot_client
from interlink.connectors.hubspot.credentials import HubSpotCredentials
from interlink.connectors.hubspot.limits import HubSpotRateLimits
from interlink.simulators.hubspot import (
    DEFAULT_PRIVATE_APP_TOKEN,
    HubSpotSimulator,
    RateLimitSettings,
    create_app,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=1_000)
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--interval-ms", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=8)
    options = parser.parse_args()

    simulator = HubSpotSimulator(
        rate_limits=RateLimitSettings(per_interval=options.limit, interval_ms=options.interval_ms, daily=None)
    )
    ids = simulator.seed("contacts", [{"email": f"bench{n}@example.com"} for n in range(100)])
    interval_seconds = max(1, options.interval_ms // 1000)
    limits = HubSpotRateLimits(per_interval=options.limit, interval_seconds=interval_seconds, daily=None)
    try:
        with serve_over_loopback(create_app(simulator=simulator)) as base_url, httpx.Client(timeout=30) as http:
            credentials = HubSpotCredentials(portal_id=4242, access_token=DEFAULT_PRIVATE_APP_TOKEN, base_url=base_url)
            client = hubspot_client(credentials, http_client=http, limits=limits)
            started = time.monotonic()
            with ThreadPoolExecutor(max_workers=options.workers) as pool:
                done = list(pool.map(lambda n: client.contacts.get(ids[n % len(ids)]).id, range(options.calls)))
            elapsed = time.monotonic() - started
    finally:
        simulator.close()

    stats = simulator.limits.stats
    windows = options.calls / options.limit
    ideal = (windows - 1) * (interval_seconds + limits.margin_seconds) if windows > 1 else 0.0
    print(f"calls completed            {len(done)} of {options.calls} ({options.workers} workers, loopback HTTP)")
    print(f"simulator limit            {options.limit} per {options.interval_ms} ms")
    print(f"client window              {limits.per_interval} per {interval_seconds + limits.margin_seconds} s")
    print(f"elapsed                    {elapsed:.1f} s (budget-bound minimum {ideal:.1f} s)")
    print(f"throughput                 {len(done) / elapsed:.2f} calls/s")
    print(f"most calls in one window   {stats.peak} (limit {options.limit})")
    print(f"429s answered              {sum(stats.rejected.values())} {stats.rejected or ''}")
    print("429s seen by the caller    0 (every call returned a record)")
    if stats.peak > options.limit or stats.rejected:
        raise SystemExit("the client went over the limit")


if __name__ == "__main__":
    main()
