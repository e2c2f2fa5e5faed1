"""Live syncing is not starved by a bulk job: a change made in HubSpot while a job runs is in Accelo within
seconds, not after the job. The job yields its worker between slices (so even one worker thread serves both)
and spends only its share of the rate budget (so live calls do not queue behind it)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import pytest

from interlink.worker.embedded import EmbeddedWorker
from tests.fixtures.world import World
from tests.jobs.support import create_everything, job_row, job_view, open_links, seed_hubspot, start_job
from tests.jobs.test_budget import limit_accelo
from tests.support.waiting import wait_for

LIVE_WITHIN_SECONDS = 5.0


def linked_contact(world: World) -> tuple[str, int]:
    """A contact synced to Accelo before the job: (its HubSpot id, its Accelo id)."""
    (link,) = open_links(world.db, "contact")
    assert link.hubspot_id
    assert link.accelo_id
    return link.hubspot_id, int(link.accelo_id)


def wait_for_status(world: World, job_id: uuid.UUID, status: str, timeout: float = 60.0) -> None:
    wait_for(lambda: job_row(world.db, job_id).status == status, timeout=timeout, what=f"job {job_id}: {status}")


@pytest.fixture
def embedded(
    world: World, job_settings: Callable[..., None], request: pytest.FixtureRequest
) -> Iterator[EmbeddedWorker]:
    job_settings(job_slice_seconds=1.0, job_batch_seconds=0.5, poll_interval_seconds=3600.0)
    worker = EmbeddedWorker(world.db, world.db.settings, threads=request.param)
    worker.start()
    time.sleep(0.3)  # its first round of periodic work (a poll that finds nothing yet)
    yield worker
    worker.stop()


@pytest.mark.parametrize("embedded", [1, 2], indirect=True, ids=["one thread", "two threads"])
def test_a_change_made_during_a_bulk_job_is_synced_within_seconds_by_the_embedded_worker(
    world: World, embedded: EmbeddedWorker
) -> None:
    create_everything(world)
    seed_hubspot(world.hubspot, companies=1, contacts_per_company=1)
    wait_for_status(world, start_job(world, kind="pull", object_type="both"), "completed")
    contact, twin = linked_contact(world)

    seed_hubspot(world.hubspot, companies=150, contacts_per_company=0, start=1)
    limit_accelo(world, limit=40, window_seconds=2)  # ~10 s of job: rate-bound at its share
    job_id = start_job(world, kind="pull", object_type="companies")
    wait_for(lambda: job_view(world, job_id)["totals"]["scanned"] > 0, what="the job to get going")

    changed_at = time.monotonic()
    world.hubspot.update_as_user("contacts", contact, {"firstname": "Renamed"})
    wait_for(
        lambda: (world.accelo.record("contact", twin) or {}).get("firstname") == "Renamed",
        timeout=LIVE_WITHIN_SECONDS,
        what="the live change to reach Accelo",
    )
    took = time.monotonic() - changed_at
    view = job_view(world, job_id)
    assert view["status"] == "running", f"the job ended before the change was synced ({took:.1f}s)"
    assert view["progress"]["percent"] < 100

    world.api.post(f"/api/v1/jobs/{job_id}/cancel", headers=world.tenant.headers)
    wait_for_status(world, job_id, "cancelled")
