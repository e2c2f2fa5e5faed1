"""A job shares each vendor's rate limit with live syncing: it spends only its share of every window, so a
live call never waits behind it, and it never draws a 429; a 429 the vendors answer anyway is waited out,
never counted as a failure. (How near the fastest its share allows a job runs is a figure ``bench/jobs_pull.py``
prints, not a timed test.)"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable

import pytest

from interlink.connections.registry import connectors_for
from interlink.jobs.runner import run_slice
from interlink.simulators.accelo.simulator import Fault as AcceloFault
from interlink.sync.handler import gateway_for
from tests.fixtures.world import World
from tests.jobs.support import (
    accelo_company_names,
    accelo_emails,
    create_everything,
    job_view,
    run_to_end,
    seed_hubspot,
    start_job,
)


def limit_accelo(world: World, *, limit: int, window_seconds: int) -> None:
    """The simulator enforces ``limit`` per window, and our clients know it (as they know Accelo's hour)."""
    world.accelo.rate_limit.configure(limit=limit, window_seconds=window_seconds)
    world.accelo.rate_limit.reset()
    connectors_for(world.db).accelo_options = {"requests_per_window": limit, "window_seconds": window_seconds}


def fastest_allowed(calls: int, *, limit: float, window_seconds: float) -> float:
    """The least time ``calls`` can take under ``limit`` calls per (moving or fixed) window: a window's worth at
    once, the next a window later, and so on."""
    return (math.ceil(calls / limit) - 1) * window_seconds


def test_live_syncing_never_waits_behind_a_job_and_no_429_is_drawn(
    world: World, job_settings: Callable[..., None]
) -> None:
    create_everything(world)
    seed_hubspot(world.hubspot, companies=4, contacts_per_company=25)
    limit_accelo(world, limit=60, window_seconds=2)
    job_settings(job_slice_seconds=60)
    job_id = start_job(world, kind="pull", object_type="both", share=0.5)
    worker = threading.Thread(target=run_to_end, args=(world.db, job_id))
    worker.start()

    live = gateway_for(world.db, world.workspace_id).accelo.client  # the full client live syncing uses
    waits = []
    while worker.is_alive():
        started = time.monotonic()
        live.companies.count()
        waits.append(time.monotonic() - started)
        time.sleep(0.25)
    worker.join()

    view = job_view(world, job_id)
    assert view["status"] == "completed"
    assert view["share"] == 0.5
    assert sum(accelo_emails(world.accelo).values()) == 100
    stats = world.accelo.rate_limit.stats()
    assert stats["rejected"] == 0  # no 429, so none could reach the job's failures
    assert view["totals"]["failed"] == 0
    assert stats["max_in_any_window"] <= 60
    assert len(waits) >= 10, "the job was over too soon to tell"
    assert max(waits) < 0.5, waits  # the job was rate-bound all along, and live calls still went straight out


def test_a_rate_bound_job_keeps_to_its_share_of_every_window(world: World, job_settings: Callable[..., None]) -> None:
    """How close to the fastest its share allows a job runs is a figure ``bench/jobs_pull.py`` prints; here,
    that the job never takes more than its share of any window, so the rest is always live syncing's."""
    create_everything(world)
    seed_hubspot(world.hubspot, companies=20, contacts_per_company=25)
    limit, window, share = 200, 2, 0.7
    limit_accelo(world, limit=limit, window_seconds=window)
    job_settings(job_slice_seconds=60)
    job_id = start_job(world, kind="pull", object_type="both", share=share)

    started = time.monotonic()
    while run_slice(world.db, job_id).status == "more":
        pass
    elapsed = time.monotonic() - started

    assert job_view(world, job_id)["status"] == "completed"
    stats = world.accelo.rate_limit.stats()
    creates = world.accelo.calls.count(method="POST")
    others = int(stats["counted"]) - creates  # schema and index reads, made at the full rate as live syncing is
    assert creates == 520  # 20 companies, 500 contacts: four windows' worth at the job's share
    assert stats["rejected"] == 0
    assert stats["max_in_any_window"] <= limit * share + others, stats
    assert elapsed >= fastest_allowed(creates, limit=limit * share, window_seconds=window)  # it never went faster


# HubSpot names no Retry-After on a 429; its rate-limit headers say how long the rolling window is.
HUBSPOT_429_HEADERS = {
    "X-HubSpot-RateLimit-Interval-Milliseconds": "500",
    "X-HubSpot-RateLimit-Max": "100",
    "X-HubSpot-RateLimit-Remaining": "0",
}
ACCELO_429 = json.dumps(
    {
        "meta": {
            "status": "too_many_requests",
            "message": "Rate limit exceeded for simulator.api.accelo.com",
            "more_info": "api.accelo.com/docs/#rate-limiting",
        },
        "response": {},
    }
)


@pytest.mark.parametrize("kind", ["pull", "push"])
def test_429s_from_both_vendors_during_a_job_are_waited_out_and_never_fail_a_record(world: World, kind: str) -> None:
    """The vendors answer 429 to the job's reads and to its creates; the job waits each one out (as long as
    the answer says) and carries on: nothing failed, nothing retried as a whole, every record exactly once."""
    create_everything(world, direction=kind)
    # Accelo's 429 says when its window resets; a one-second window keeps that wait short.
    world.accelo.rate_limit.configure(window_seconds=1)
    hubspot_routes: tuple[tuple[str, str], ...]
    if kind == "pull":
        seed_hubspot(world.hubspot, companies=3, contacts_per_company=4)
        hubspot_routes = (
            ("GET", "/crm/v3/objects/{object_type}"),
            ("POST", "/crm/v4/associations/{from_type}/{to_type}/batch/read"),
        )
        accelo_routes = (("POST", r"^/api/v0/contacts$"),)
    else:
        world.accelo.generate(companies=3, contacts_per_company=4)
        hubspot_routes = (("POST", "/crm/v3/objects/{object_type}/batch/create"),)
        accelo_routes = (("GET", r"^/api/v0/companies$"),)
    for method, route in hubspot_routes:
        world.hubspot.inject_rate_limit(route, method=method, headers=HUBSPOT_429_HEADERS)
    for method, pattern in accelo_routes:
        world.accelo.add_fault(
            AcceloFault(pattern, status=429, body=ACCELO_429, content_type="application/json", method=method)
        )

    job_id = start_job(world, kind=kind, object_type="both")
    slices = run_to_end(world.db, job_id)  # a slice that failed and had to wait would stop it ("retrying")

    assert world.hubspot.calls.count(status=429) == len(hubspot_routes)  # the vendors did answer 429
    assert world.accelo.calls.count(status=429) == len(accelo_routes)
    view = job_view(world, job_id)
    assert (view["status"], view["error"], slices[-1].status) == ("completed", None, "completed")
    totals = view["totals"]
    assert (totals["scanned"], totals["created"], totals["failed"]) == (15, 15, 0)
    if kind == "pull":
        assert accelo_emails(world.accelo) == {
            f"person{c}-{p}@company{c}.example": 1 for c in range(3) for p in range(4)
        }
        assert sum(accelo_company_names(world.accelo).values()) == 3
    else:
        assert (world.hubspot.count("companies"), world.hubspot.count("contacts")) == (3, 12)
