"""The simulators for ``bench/jobs_pull.py``, in a process of their own (so their 100,000 records count
against neither the worker's memory nor its CPU): HubSpot seeded with companies and their contacts, an empty
Accelo with a rate limit, both over loopback HTTP. Prints one JSON line (the two URLs) when ready.

``GET {accelo}/_bench/report`` answers what the benchmark checks afterwards: Accelo's records (each expected
email and company name, how many times), both simulators' rate-limit accounting (429s answered, most
requests in any window) and the calls made.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.servers import serve_over_loopback

from interlink.simulators import accelo as accelo_simulator
from interlink.simulators import hubspot as hubspot_simulator
from interlink.simulators.hubspot.crm import Source
from interlink.simulators.hubspot.limits import RateLimitSettings
from interlink.simulators.hubspot.simulator import HubSpotSimulator


def seed(hubspot: HubSpotSimulator, companies: int, per_company: int) -> None:
    company_ids = hubspot.seed(
        "companies", [{"name": f"Company {c}", "domain": f"company{c}.example"} for c in range(companies)]
    )
    rows = [
        {
            "email": f"person{c}-{p}@company{c}.example",
            "firstname": f"First{c}-{p}",
            "lastname": f"Last{c}-{p}",
            "lifecyclestage": "customer",
        }
        for c in range(companies)
        for p in range(per_company)
    ]
    contact_ids = hubspot.seed("contacts", rows)
    with hubspot.lock:
        for index, contact in enumerate(contact_ids):
            company = company_ids[index // per_company]
            hubspot.crm.associate("contacts", int(contact), "companies", int(company), {1, 279}, Source.imported())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--companies", type=int, required=True)
    parser.add_argument("--per-company", type=int, required=True)
    parser.add_argument("--accelo-limit", type=int, required=True)
    parser.add_argument("--accelo-window", type=int, required=True)
    parser.add_argument("--hubspot-limit", type=int, default=100)
    parser.add_argument("--hubspot-interval-ms", type=int, default=10_000)
    options = parser.parse_args()

    hubspot = HubSpotSimulator(
        rate_limits=RateLimitSettings(per_interval=options.hubspot_limit, interval_ms=options.hubspot_interval_ms)
    )
    started = time.perf_counter()
    seed(hubspot, options.companies, options.per_company)
    seeded = time.perf_counter() - started
    accelo_app = accelo_simulator.create_app()
    accelo = accelo_app.simulator
    accelo.rate_limit.configure(limit=options.accelo_limit, window_seconds=options.accelo_window)

    def report(_request: Request) -> JSONResponse:
        emails: Counter[str] = Counter(
            str(row["email"]).lower() for row in accelo.state.affiliations.rows.values() if row.get("email")
        )
        names: Counter[str] = Counter(str(row["name"]) for row in accelo.state.companies.rows.values())
        expected_emails = {
            f"person{c}-{p}@company{c}.example" for c in range(options.companies) for p in range(options.per_company)
        }
        expected_names = {f"Company {c}" for c in range(options.companies)}
        body: dict[str, Any] = {
            "accelo": {
                "contacts": len(accelo.state.contacts.rows),
                "companies": len(accelo.state.companies.rows),
                "emails_twice": sum(1 for count in emails.values() if count > 1),
                "emails_missing": len(expected_emails - set(emails)),
                "emails_unexpected": len(set(emails) - expected_emails),
                "names_twice": sum(1 for count in names.values() if count > 1),
                "names_missing": len(expected_names - set(names)),
                "rate_limit": accelo.rate_limit.stats(),
                "calls": accelo.calls.count(),
            },
            "hubspot": {"rate_limit": hubspot.limits.report(), "calls": hubspot.calls.count()},
        }
        return JSONResponse(body)

    def reset_counts(_request: Request) -> JSONResponse:
        accelo.rate_limit.reset()
        accelo.calls.reset()
        hubspot.limits.reset()
        hubspot.calls.reset()
        return JSONResponse({"reset": True})

    bench_routes = Starlette(routes=[Route("/report", report), Route("/reset-counts", reset_counts, methods=["POST"])])
    accelo_host = Starlette(routes=[Mount("/_bench", app=bench_routes), Mount("/", app=accelo_app)])
    with (
        serve_over_loopback(hubspot_simulator.create_app(simulator=hubspot)) as hubspot_url,
        serve_over_loopback(accelo_host) as accelo_url,
    ):
        print(json.dumps({"hubspot": hubspot_url, "accelo": accelo_url, "seeded_seconds": round(seeded, 1)}))
        sys.stdout.flush()
        threading.Event().wait()  # until the benchmark terminates this process


if __name__ == "__main__":
    main()
