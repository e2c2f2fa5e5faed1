"""A job shares each vendor's rate limit with live syncing: it spends only its share of every window, so a
live call never waits behind it, and it never draws a 429. (How near the fastest its share allows a job runs
is a figure ``bench/jobs_pull.py`` prints, not a timed test.)"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from interlink.connections.registry import connectors_for
from interlink.jobs.runner import run_slice
from interlink.sync.handler import gateway_for
from tests.fixtures.world import World
from tests.jobs.support import accelo_emails, create_everything, job_view, run_to_end, seed_hubspot, start_job


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
    seed_hubspot(world.hubspot, companies=20, contacts_per_company=50)
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
    assert creates == 1020  # 20 companies, 1,000 contacts
    assert stats["rejected"] == 0
    assert stats["max_in_any_window"] <= limit * share + others, stats
    assert elapsed >= fastest_allowed(creates, limit=limit * share, window_seconds=window)  # it never went faster
