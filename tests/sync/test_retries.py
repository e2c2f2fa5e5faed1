"""A record whose write keeps failing: retried with a growing backoff, then marked failed with its error after the
last attempt, while the other records of the same batch sync; every decision on the ledger, tied to the inbound
events that caused it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from interlink.connections.registry import connectors_for, install
from interlink.db import Database
from interlink.inbox.service import drain_workspace
from interlink.kit.time import ensure_utc, utc_now
from interlink.models import InboundEvent, LedgerEntry, Link
from tests.fixtures.database import make_settings
from tests.fixtures.world import World
from tests.sync.test_end_to_end import linked_contact, refuse_accelo_writes

MAX_ATTEMPTS = 3
BASE_SECONDS = 60.0


@pytest.fixture
def worker(world: World) -> Iterator[Database]:
    """A worker whose retries wait (the world's retry at once), over the same database and simulators."""
    settings = make_settings(
        world.settings.database_url,
        world.settings.data_dir,
        inbox_max_attempts=MAX_ATTEMPTS,
        inbox_retry_base_seconds=BASE_SECONDS,
    )
    database = Database(settings)
    install(database, connectors_for(world.db))
    yield database
    database.dispose()


def event_of(world: World, object_id: str, *, after: int) -> InboundEvent:
    """The one HubSpot event about this record since event ``after`` (hints about one record coalesce)."""
    with world.db.transaction() as session:
        return session.scalars(
            select(InboundEvent).where(
                InboundEvent.source == "hubspot", InboundEvent.object_id == object_id, InboundEvent.id > after
            )
        ).one()


def last_event_id(world: World) -> int:
    with world.db.transaction() as session:
        return max(session.scalars(select(InboundEvent.id)), default=0)


def link_of(world: World, link_id: object) -> Link:
    with world.db.transaction() as session:
        link = session.get(Link, link_id)
        assert link is not None
        return link


def make_due(world: World, event_id: int) -> None:
    """Time passes: the event's backoff is over (instead of waiting for it)."""
    with world.db.transaction() as session:
        session.execute(update(InboundEvent).where(InboundEvent.id == event_id).values(next_attempt_at=utc_now()))


def drain(world: World, worker: Database) -> tuple[datetime, datetime]:
    world.hubspot.webhooks.flush(30)
    before = utc_now()
    drain_workspace(worker, world.workspace_id)
    return before, utc_now()


def test_a_failing_record_backs_off_then_fails_with_its_error_while_the_rest_of_its_batch_syncs(
    world: World, worker: Database
) -> None:
    failing, failing_accelo, failing_link = linked_contact(world, email="ada@engines.example")
    fine, fine_accelo, fine_link = linked_contact(world, email="bea@engines.example")
    refuse_accelo_writes(world, failing_accelo)
    mark = last_event_id(world)
    world.hubspot.update_as_user("contacts", failing, {"firstname": "Augusta"})
    world.hubspot.update_as_user("contacts", fine, {"firstname": "Beatrice"})
    world.hubspot.webhooks.flush(30)
    failing_event, fine_event = event_of(world, failing, after=mark), event_of(world, fine, after=mark)
    assert (failing_event.status, fine_event.status) == ("pending", "pending")  # one batch will hold both

    retry_times: list[datetime] = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        started, finished = drain(world, worker)
        event, link = event_of(world, failing, after=mark), link_of(world, failing_link.id)
        assert event.attempts == attempt
        assert link.attempts == attempt
        assert "firstname is not acceptable" in (link.last_error or "")
        if attempt < MAX_ATTEMPTS:
            # Retried with backoff: due again after base * 2^(attempt-1), less up to half of it in jitter.
            due = ensure_utc(event.next_attempt_at)
            longest = BASE_SECONDS * 2 ** (attempt - 1)
            assert (event.status, link.state) == ("pending", "in_sync")
            assert due - started >= timedelta(seconds=longest / 2)
            assert due - finished <= timedelta(seconds=longest)
            assert link.next_attempt_at is not None
            assert ensure_utc(link.next_attempt_at) == due  # the API shows when it is tried again
            retry_times.append(due)
            assert drain_workspace(worker, world.workspace_id).claimed == 0  # not before its time
            make_due(world, event.id)
        if attempt == 1:
            # the other record of the batch synced on the first attempt
            assert world.accelo.record("contact", fine_accelo)["firstname"] == "Beatrice"
            assert event_of(world, fine, after=mark).status == "done"
            assert link_of(world, fine_link.id).state == "in_sync"
    # next_attempt_at grows: the second retry is due later than the first was, though it was scheduled long
    # before the first one's time came (the first wait is at most BASE_SECONDS, the second at least that)
    assert retry_times[1] > retry_times[0]

    # Given up: failed with its error, flagged, not queued any more.
    event, link = event_of(world, failing, after=mark), link_of(world, failing_link.id)
    assert event.status == "failed"
    assert "firstname is not acceptable" in (event.last_error or "")
    assert (link.state, link.flagged, link.next_attempt_at) == ("failed", True, None)
    assert f"gave up after {MAX_ATTEMPTS} attempts" in (link.state_reason or "")
    assert world.accelo.record("contact", failing_accelo)["firstname"] == "Ada"

    # The ledger: a failed entry with the error for every attempt, each tied to the event that caused it; the
    # other record's update tied to its own event.
    with world.db.transaction() as session:
        entries = list(session.scalars(select(LedgerEntry).order_by(LedgerEntry.id)))
    failures = [e for e in entries if e.action == "failed"]
    assert len(failures) == MAX_ATTEMPTS
    assert all(e.link_id == failing_link.id and e.event_ids == [event.id] for e in failures)
    assert all("firstname is not acceptable" in (e.reason or "") for e in failures)
    (update_entry,) = [e for e in entries if e.action == "updated" and e.link_id == fine_link.id]
    assert (update_entry.field, update_entry.new_value) == ("firstname|firstname", "Beatrice")
    assert update_entry.event_ids == [fine_event.id]

    listed = world.api.get("/api/v1/links?state=failed", headers=world.tenant.headers).json()["items"]
    assert [(item["id"], item["last_error"] is not None) for item in listed] == [(str(failing_link.id), True)]
