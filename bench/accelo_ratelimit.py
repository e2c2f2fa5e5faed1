"""Many Accelo calls against a simulator enforcing Accelo's 5,000 per hour, and what the simulator saw.

    .venv/bin/python bench/accelo_ratelimit.py [--calls 12000] [--limit 5000] [--window 3600] [--workers 4]
                                               [--loopback]

The simulator enforces ``--limit`` requests per sliding ``--window`` seconds and records every arrival, so
it can say afterwards how many requests any one window held (429s included). The client spends from its
budget of the same window, less its 2% safety margin, from ``--workers`` threads. At Accelo's real scale
(12,000 calls, 5,000 an hour) this takes two hours; ``--window 2`` compresses the hour to two seconds.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.servers import serve_over_loopback

from interlink.connectors.accelo import AcceloCredentials, accelo_client
from interlink.kit.asgi import in_process_client
from interlink.simulators.accelo import DEFAULT_ACCESS_TOKEN, create_app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=12_000)
    parser.add_argument("--limit", type=int, default=5_000)
    parser.add_argument("--window", type=int, default=2, help="seconds standing in for Accelo's hour")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--loopback", action="store_true", help="real HTTP instead of in-process")
    options = parser.parse_args()

    app = create_app(rate_limit=options.limit, rate_window_seconds=options.window)
    simulator = app.simulator
    ids = [simulator.user_create_company(f"Company {n}") for n in range(100)]
    try:
        if options.loopback:
            with serve_over_loopback(app) as base_url, httpx.Client(timeout=30) as http:
                elapsed = run(http, base_url, ids, options)
        else:
            with in_process_client(app, "https://bench.api.accelo.com") as http:
                elapsed = run(http, "https://bench.api.accelo.com", ids, options)
        stats = simulator.rate_limit.stats()
    finally:
        app.close()
    print(f"{options.calls} calls, {options.workers} workers, {'loopback' if options.loopback else 'in-process'}")
    print(f"  time                      {elapsed:.1f}s ({options.calls / elapsed:.0f} calls/s)")
    print(f"  limit                     {options.limit} per {options.window}s")
    print(f"  most in any window        {stats['max_in_any_window']}")
    print(f"  429s answered             {stats['rejected']}")


def run(http: httpx.Client, base_url: str, ids: list[int], options: argparse.Namespace) -> float:
    credentials = AcceloCredentials(
        deployment=f"bench{uuid.uuid4().hex[:8]}",
        client_id="bench",
        access_token=DEFAULT_ACCESS_TOKEN,
        base_url=base_url,
    )
    client = accelo_client(
        credentials, http_client=http, requests_per_window=options.limit, window_seconds=options.window
    )
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=options.workers) as pool:
        list(pool.map(lambda n: client.companies.get(ids[n % len(ids)]).id, range(options.calls)))
    return time.monotonic() - started


if __name__ == "__main__":
    main()
