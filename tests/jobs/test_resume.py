"""A job survives its worker: a worker killed at any point (mid-batch after its writes, between batches, in a
dry run) leaves a job that another worker resumes from its checkpoint, with no duplicate, no record missed and
no write sent twice. Leases held by live workers are respected; vendor outages back off and resume."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from interlink.connectors.hubspot.errors import HubSpotAuthenticationFailed, HubSpotServerError
from interlink.jobs.runner import RUN_TASK, run_slice, sweep
from interlink.kit.time import utc_now
from interlink.models import LedgerEntry
from interlink.models.job import Job
from interlink.sync.adapters.accelo import AcceloAdapter
from interlink.sync.adapters.hubspot import HubSpotAdapter
from interlink.sync.handler import BulkGateway, bulk_gateway_for
from interlink.sync.plan import AcceloWrite
from interlink.sync.ports import RecordPage, WriteResult
from interlink.worker.enqueue import RecordingDispatcher
from tests.fixtures.world import World
from tests.jobs.support import (
    accelo_emails,
    create_everything,
    job_row,
    job_view,
    open_links,
    run_to_end,
    seed_hubspot,
    start_job,
)

EVERYONE = {f"person{c}-{p}@company{c}.example" for c in range(4) for p in range(10)}


class WorkerKilled(BaseException):
    """What a SIGKILL looks like from inside: nothing after it runs, no handler sees it."""


class DyingAccelo(AcceloAdapter):
    """Accelo writes that kill the worker after ``survive`` contacts were created (mid-batch)."""

    def __init__(self, adapter: AcceloAdapter, survive: int) -> None:
        super().__init__(adapter.client)
        self.survive = survive

    def apply(self, object_type: str, write: AcceloWrite) -> WriteResult:
        result = super().apply(object_type, write)
        if object_type == "contact" and write.record_id is None:
            self.survive -= 1
            if self.survive < 0:
                raise WorkerKilled()
        return result


def with_accelo(world: World, accelo: Callable[[AcceloAdapter], AcceloAdapter]) -> BulkGateway:
    real = bulk_gateway_for(world.db, world.workspace_id, 0.7)
    return BulkGateway(hubspot=real.hubspot, accelo=accelo(real.accelo), schema=real.schema)


def lapse(world: World, job_id: uuid.UUID) -> None:
    """Fast-forward to after the dead worker's lease."""
    with world.db.transaction() as session:
        job = session.get(Job, job_id)
        assert job is not None
        assert job.claim_token is not None  # still held by the dead worker
        job.lease_expires_at = utc_now() - timedelta(seconds=1)


@pytest.fixture
def forty(world: World, job_settings: Callable[..., None]) -> None:
    create_everything(world)
    seed_hubspot(world.hubspot, companies=4, contacts_per_company=10)
    job_settings(job_max_batch=10)


@pytest.mark.usefixtures("forty")
def test_a_worker_killed_after_writing_a_batch_leaves_no_duplicate(
    world: World, dispatcher: RecordingDispatcher
) -> None:
    job_id = start_job(world, kind="pull", object_type="both")
    with pytest.raises(WorkerKilled):
        run_to_end(world.db, job_id, bulk=with_accelo(world, lambda a: DyingAccelo(a, survive=14)))
    orphans = sum(accelo_emails(world.accelo).values()) - len(open_links(world.db, "contact"))
    assert orphans == 5  # created in Accelo by the batch in flight; its links never committed

    assert run_slice(world.db, job_id).status == "not_claimed"  # the lease is still the dead worker's
    lapse(world, job_id)
    dispatcher.take()  # what the dead worker queued before it died
    assert sweep(world.db) == 1
    # The simulators' webhooks for the contacts created so far land on their own thread and queue inbox drains
    # at any moment; what matters here is the job the sweep sent.
    assert [job.kwargs["job_id"] for job in dispatcher.take() if job.name == RUN_TASK] == [str(job_id)]
    run_to_end(world.db, job_id)

    assert accelo_emails(world.accelo) == dict.fromkeys(EVERYONE, 1)  # nobody twice, nobody missed
    view = job_view(world, job_id)
    assert view["restarts"] == 1
    contacts = view["by_object_type"]["contacts"]
    assert (contacts["scanned"], contacts["created"], contacts["matched_existing"]) == (40, 35, 5)
    with world.db.transaction() as session:
        found_again = session.scalars(
            select(LedgerEntry).where(LedgerEntry.job_id == job_id, LedgerEntry.action == "linked_by_match")
        ).all()
    assert len(found_again) == 5  # the orphans, found by live search and linked


@pytest.mark.usefixtures("forty")
def test_a_worker_killed_between_batches_resends_nothing_and_counts_nothing_twice(world: World) -> None:
    job_id = start_job(world, kind="pull", object_type="both")
    batches: list[str] = []

    def die_after_two_contact_batches(object_type: str, _outcomes: Any) -> None:
        batches.append(object_type)
        if batches.count("contact") == 2:
            raise WorkerKilled()

    world.accelo.calls.reset()
    with pytest.raises(WorkerKilled):
        run_to_end(world.db, job_id, observe=die_after_two_contact_batches)
    lapse(world, job_id)
    run_to_end(world.db, job_id)

    assert world.accelo.calls.count(method="POST", route="/api/v0/contacts") == 40  # each sent exactly once
    assert accelo_emails(world.accelo) == dict.fromkeys(EVERYONE, 1)
    contacts = job_view(world, job_id)["by_object_type"]["contacts"]
    assert (contacts["scanned"], contacts["created"]) == (40, 40)


@pytest.mark.usefixtures("forty")
def test_a_dry_run_killed_midway_resumes_with_the_same_predictions(world: World) -> None:
    whole = start_job(world, kind="pull", object_type="both", dry_run=True)
    run_to_end(world.db, whole)
    expected = job_view(world, whole)["by_object_type"]

    job_id = start_job(world, kind="pull", object_type="both", dry_run=True)
    seen: list[str] = []

    def die(object_type: str, _outcomes: Any) -> None:
        seen.append(object_type)
        if len(seen) == 3:
            raise WorkerKilled()

    with pytest.raises(WorkerKilled):
        run_to_end(world.db, job_id, observe=die)
    lapse(world, job_id)
    run_to_end(world.db, job_id)
    assert job_view(world, job_id)["by_object_type"] == expected
    assert sum(accelo_emails(world.accelo).values()) == 0


class SlowAccelo(AcceloAdapter):
    def __init__(self, adapter: AcceloAdapter, seconds: float) -> None:
        super().__init__(adapter.client)
        self.seconds = seconds

    def apply(self, object_type: str, write: AcceloWrite) -> WriteResult:
        time.sleep(self.seconds)
        return super().apply(object_type, write)


@pytest.mark.usefixtures("forty")
def test_the_heartbeat_keeps_a_slow_worker_s_lease(world: World, job_settings: Callable[..., None]) -> None:
    job_settings(job_lease_seconds=0.4, job_max_batch=5, job_batch_seconds=5.0)
    job_id = start_job(world, kind="pull", object_type="companies")
    slow = with_accelo(world, lambda a: SlowAccelo(a, 0.15))
    first = threading.Thread(target=run_slice, args=(world.db, job_id), kwargs={"bulk": slow})
    first.start()
    rivals = []
    while first.is_alive():  # a batch takes 5 x 0.15 s, longer than the lease: only the heartbeat keeps it
        time.sleep(0.1)
        rivals.append(run_slice(world.db, job_id).status)
        assert sweep(world.db) == 0
    first.join()
    assert set(rivals) == {"not_claimed"}
    assert len(rivals) > 5
    assert job_row(world.db, job_id).restarts == 0


class FlakyHubSpot(HubSpotAdapter):
    """A HubSpot whose listing fails ``failures`` times (a 5xx that outlived the client's retries)."""

    def __init__(self, adapter: HubSpotAdapter, failures: int, error: Exception) -> None:
        super().__init__(adapter.client)
        self.failures = failures
        self.error = error

    def list_page(self, object_type: str, properties: Any, *, after: str | None, limit: int = 100) -> RecordPage[Any]:
        if self.failures > 0:
            self.failures -= 1
            raise self.error
        return super().list_page(object_type, properties, after=after, limit=limit)


def with_hubspot(world: World, failures: int, error: Exception) -> BulkGateway:
    real = bulk_gateway_for(world.db, world.workspace_id, 0.7)
    return BulkGateway(hubspot=FlakyHubSpot(real.hubspot, failures, error), accelo=real.accelo, schema=real.schema)


def due_now(world: World, job_id: uuid.UUID) -> None:
    with world.db.transaction() as session:
        job = session.get(Job, job_id)
        assert job is not None
        job.checkpoint = {**job.checkpoint, "not_before": utc_now().isoformat()}


@pytest.mark.usefixtures("forty")
def test_a_vendor_outage_backs_off_then_the_job_carries_on(world: World) -> None:
    job_id = start_job(world, kind="pull", object_type="contacts")
    flaky = with_hubspot(world, 2, HubSpotServerError("HubSpot is down", status_code=502))
    assert run_slice(world.db, job_id, bulk=flaky).status == "retrying"
    view = job_view(world, job_id)
    assert view["status"] == "running"
    assert "retrying in 5s" in view["error"]
    assert run_slice(world.db, job_id, bulk=flaky).status == "not_claimed"  # backing off
    due_now(world, job_id)
    assert run_slice(world.db, job_id, bulk=flaky).status == "retrying"
    assert "retrying in 10s" in job_view(world, job_id)["error"]
    due_now(world, job_id)
    run_to_end(world.db, job_id, bulk=flaky)
    view = job_view(world, job_id)
    assert (view["status"], view["error"], view["totals"]["scanned"]) == ("completed", None, 40)


@pytest.mark.usefixtures("forty")
def test_a_rejected_token_fails_the_job_and_resuming_carries_on_from_the_checkpoint(world: World) -> None:
    job_id = start_job(world, kind="pull", object_type="both")
    broken = with_hubspot(world, 99, HubSpotAuthenticationFailed("token revoked", status_code=401))
    run_slice(world.db, job_id, bulk=broken)
    failed = job_view(world, job_id)
    assert failed["status"] == "failed"
    assert "needs an admin" in failed["error"]

    resumed = world.api.post(f"/api/v1/jobs/{job_id}/resume", headers=world.tenant.headers)
    assert resumed.json()["status"] == "queued"
    run_to_end(world.db, job_id)
    assert job_view(world, job_id)["status"] == "completed"
    assert accelo_emails(world.accelo) == dict.fromkeys(EVERYONE, 1)


class DyingHubSpot(HubSpotAdapter):
    """HubSpot writes that kill the worker right after a batch of creates went through."""

    def apply(self, object_type: str, writes: Any) -> list[WriteResult]:
        results = super().apply(object_type, writes)
        if object_type == "company" and any(write.record_id is None for write in writes):
            raise WorkerKilled()
        return results


def test_a_push_killed_after_creating_in_hubspot_waits_for_its_search_then_links_the_orphans(
    world: World, job_settings: Callable[..., None]
) -> None:
    create_everything(world, direction="push")
    world.accelo.generate(companies=12, contacts_per_company=0)
    job_settings(job_max_batch=5)
    job_id = start_job(world, kind="push", object_type="companies")
    real = bulk_gateway_for(world.db, world.workspace_id, 0.7)
    dying = BulkGateway(hubspot=DyingHubSpot(real.hubspot.client), accelo=real.accelo, schema=real.schema)
    with pytest.raises(WorkerKilled):
        run_to_end(world.db, job_id, bulk=dying)
    assert world.hubspot.count("companies") == 5  # created, never recorded

    lapse(world, job_id)
    assert run_slice(world.db, job_id).status == "retrying"  # HubSpot's search may not show them yet
    checkpoint = job_row(world.db, job_id).checkpoint
    assert checkpoint["recover"] is True
    with world.db.transaction() as session:  # half a minute later
        job = session.get(Job, job_id)
        assert job is not None
        job.checkpoint = {**checkpoint, "recover_not_before": utc_now().isoformat(), "not_before": None}
    run_to_end(world.db, job_id)

    names = [record.properties.get("name") for record in world.hubspot.crm.records["companies"].values()]
    assert len(names) == len(set(names)) == 12  # the orphans were linked, not created again
    totals = job_view(world, job_id)["totals"]
    assert (totals["created"], totals["matched_existing"]) == (7, 5)
