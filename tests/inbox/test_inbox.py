from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

import tests.support.inbox_probe
from interlink.db import Database
from interlink.inbox import handlers, service
from interlink.inbox.service import ClaimedBatch, LeaseLost, NewEvent, Outcome, accept_events, finish_events
from interlink.kit.time import utc_now
from interlink.models import InboundEvent, LedgerEntry
from interlink.worker.enqueue import RecordingDispatcher, enqueue_job
from tests.fixtures.database import make_settings
from tests.fixtures.factories import Tenant, accept_probes, probe_event


def processed_counts(db: Database) -> dict[int, int]:
    """How many times the probe handler committed work for each event."""
    with db.transaction() as session:
        counts: dict[int, int] = {}
        for entry in session.scalars(select(LedgerEntry).where(LedgerEntry.action == "probe_processed")):
            for event_id in entry.event_ids:
                counts[event_id] = counts.get(event_id, 0) + 1
        return counts


def statuses(db: Database) -> dict[int, str]:
    with db.transaction() as session:
        return dict(session.execute(select(InboundEvent.id, InboundEvent.status)).all())


class TestAccepting:
    def test_a_redelivered_event_is_stored_once(
        self, db: Database, tenant: Tenant, dispatcher: RecordingDispatcher
    ) -> None:
        first = accept_probes(db, tenant.workspace.id, probe_event("k1"), probe_event("k2"))
        again = accept_probes(db, tenant.workspace.id, probe_event("k1"), probe_event("k1"), probe_event("k3"))
        assert (first.accepted, first.duplicates) == (2, 0)
        assert (again.accepted, again.duplicates) == (1, 2)
        assert len(statuses(db)) == 3

    def test_the_same_key_in_another_workspace_is_a_different_event(
        self, db: Database, tenant: Tenant, dispatcher: RecordingDispatcher
    ) -> None:
        from tests.fixtures.factories import create_tenant

        other = create_tenant(db, "Other")
        accept_probes(db, tenant.workspace.id, probe_event("same"))
        assert accept_probes(db, other.workspace.id, probe_event("same")).accepted == 1

    def test_the_drain_is_dispatched_only_after_commit(
        self, db: Database, tenant: Tenant, dispatcher: RecordingDispatcher
    ) -> None:
        with db.transaction() as session:
            accept_events(session, tenant.workspace.id, "probe", [probe_event()])
            assert dispatcher.jobs == []  # not yet: the transaction is open
        assert [job.name for job in dispatcher.take()] == ["inbox.drain"]

    def test_a_rollback_drops_the_job_and_the_event(
        self, db: Database, tenant: Tenant, dispatcher: RecordingDispatcher
    ) -> None:
        def request_that_fails_later() -> None:
            with db.transaction() as session:
                accept_events(session, tenant.workspace.id, "probe", [probe_event()])
                raise RuntimeError("something later in the request failed")

        with pytest.raises(RuntimeError):
            request_that_fails_later()
        assert dispatcher.jobs == []
        assert statuses(db) == {}

    def test_a_rolled_back_savepoint_keeps_the_outer_jobs(
        self, db: Database, tenant: Tenant, dispatcher: RecordingDispatcher
    ) -> None:
        with db.transaction() as session:
            enqueue_job(session, "inbox.sweep")
            nested = session.begin_nested()
            nested.rollback()
        assert [job.name for job in dispatcher.take()] == ["inbox.sweep"]


class TestDraining:
    def test_every_event_is_processed_exactly_once(
        self, db: Database, tenant: Tenant, dispatcher: RecordingDispatcher
    ) -> None:
        ids = accept_probes(db, tenant.workspace.id, *(probe_event() for _ in range(250))).event_ids
        result = service.drain_workspace(db, tenant.workspace.id)
        assert result.claimed == 250
        assert result.batches == 3
        assert processed_counts(db) == dict.fromkeys(ids, 1)
        assert set(statuses(db).values()) == {"done"}
        assert service.drain_workspace(db, tenant.workspace.id).claimed == 0

    def test_a_failing_handler_retries_then_fails_without_blocking_others(
        self, db: Database, tenant: Tenant, dispatcher: RecordingDispatcher
    ) -> None:
        good = accept_probes(db, tenant.workspace.id, probe_event()).event_ids[0]
        service.drain_workspace(db, tenant.workspace.id)
        bad = accept_probes(db, tenant.workspace.id, probe_event(fail=True)).event_ids[0]
        for _attempt in range(db.settings.inbox_max_attempts):
            service.drain_workspace(db, tenant.workspace.id)
        with db.transaction() as session:
            event = session.get(InboundEvent, bad)
            assert event is not None
            assert event.status == "failed"
            assert event.attempts == db.settings.inbox_max_attempts
            assert "asked to fail" in (event.last_error or "")
        assert processed_counts(db) == {good: 1}

    def test_retries_wait_for_their_backoff(
        self, db: Database, tenant: Tenant, dispatcher: RecordingDispatcher
    ) -> None:
        event_id = accept_probes(db, tenant.workspace.id, probe_event()).event_ids[0]
        (batch,) = service.claim_batch(db, tenant.workspace.id)
        with db.transaction() as session:
            finish_events(session, batch, {event_id: Outcome("retry", "vendor busy", delay_seconds=60)})
        assert service.drain_workspace(db, tenant.workspace.id).claimed == 0  # not due yet
        with db.transaction() as session:
            event = session.get(InboundEvent, event_id)
            assert event is not None
            assert event.status == "pending"
            assert event.next_attempt_at > utc_now() + timedelta(seconds=50)

    def test_a_trickle_of_events_waits_to_become_one_batch(
        self, db: Database, tenant: Tenant, dispatcher: RecordingDispatcher
    ) -> None:
        lingering = Database(make_settings(db.settings.database_url, db.settings.data_dir, inbox_linger_seconds=0.8))
        try:
            first = accept_probes(lingering, tenant.workspace.id, *(probe_event() for _ in range(3))).event_ids
            results: list[service.DrainResult] = []
            worker = threading.Thread(
                target=lambda: results.append(service.drain_workspace(lingering, tenant.workspace.id))
            )
            worker.start()
            later = accept_probes(lingering, tenant.workspace.id, *(probe_event() for _ in range(3))).event_ids
            worker.join(30)
        finally:
            lingering.dispose()
        (result,) = results
        assert (result.batches, result.claimed) == (1, 6)  # the later three joined the first three's batch
        assert processed_counts(db) == dict.fromkeys(first + later, 1)

    def test_a_full_batch_does_not_linger(self, db: Database, tenant: Tenant, dispatcher: RecordingDispatcher) -> None:
        patient = Database(
            make_settings(db.settings.database_url, db.settings.data_dir, inbox_linger_seconds=10, inbox_batch_size=5)
        )
        try:
            accept_probes(patient, tenant.workspace.id, *(probe_event() for _ in range(5)))
            assert service.seconds_until_batch_ready(patient, tenant.workspace.id) == 0
            accept_probes(patient, tenant.workspace.id, probe_event())  # a sixth, alone: it would wait
            result = service.drain_workspace(patient, tenant.workspace.id, time_budget_seconds=0)
            assert (result.batches, result.claimed) == (1, 5)
            wait = service.seconds_until_batch_ready(patient, tenant.workspace.id)
            assert wait is not None
            assert 8 < wait <= 10
        finally:
            patient.dispose()

    def test_an_unknown_source_fails_with_a_reason(
        self, db: Database, tenant: Tenant, dispatcher: RecordingDispatcher
    ) -> None:
        with db.transaction() as session:
            accept_events(session, tenant.workspace.id, "martian", [NewEvent("x", "k", {})])
        service.drain_workspace(db, tenant.workspace.id)
        with db.transaction() as session:
            event = session.scalars(select(InboundEvent)).one()
            assert event.status == "failed"
            assert "no handler" in (event.last_error or "")


class TestLeases:
    def test_an_expired_lease_is_swept_back_and_processed_once(
        self, db: Database, tenant: Tenant, dispatcher: RecordingDispatcher
    ) -> None:
        event_id = accept_probes(db, tenant.workspace.id, probe_event()).event_ids[0]
        dispatcher.take()
        (batch,) = service.claim_batch(db, tenant.workspace.id)  # a worker claims it, then dies
        assert service.sweep(db).requeued == 0  # the lease is still good
        _expire_leases(db)
        swept = service.sweep(db)
        assert (swept.requeued, swept.drains) == (1, 1)
        assert [job.kwargs for job in dispatcher.take()] == [{"workspace_id": str(tenant.workspace.id)}]
        service.drain_workspace(db, tenant.workspace.id)
        assert processed_counts(db) == {event_id: 1}

    def test_a_slow_worker_that_lost_its_lease_cannot_finish(
        self, db: Database, tenant: Tenant, dispatcher: RecordingDispatcher
    ) -> None:
        event_id = accept_probes(db, tenant.workspace.id, probe_event()).event_ids[0]
        (slow,) = service.claim_batch(db, tenant.workspace.id)
        _expire_leases(db)
        service.sweep(db)
        service.drain_workspace(db, tenant.workspace.id)  # another worker does the work

        def slow_worker_wakes_up_and_finishes() -> None:
            with db.transaction() as session:
                entry = LedgerEntry(workspace_id=tenant.workspace.id, action="probe_processed", event_ids=[event_id])
                session.add(entry)
                finish_events(session, slow, {event_id: service.DONE})

        with pytest.raises(LeaseLost):
            slow_worker_wakes_up_and_finishes()
        assert processed_counts(db) == {event_id: 1}  # its writes rolled back with it

    def test_a_worker_lost_too_often_marks_the_event_failed(
        self, db: Database, tenant: Tenant, dispatcher: RecordingDispatcher
    ) -> None:
        accept_probes(db, tenant.workspace.id, probe_event())
        for _ in range(db.settings.inbox_max_attempts):
            service.claim_batch(db, tenant.workspace.id)
            _expire_leases(db)
            service.sweep(db)
        assert list(statuses(db).values()) == ["failed"]


def _expire_leases(db: Database) -> None:
    with db.transaction() as session:
        session.execute(
            update(InboundEvent)
            .where(InboundEvent.status == "processing")
            .values(lease_expires_at=utc_now() - timedelta(seconds=1))
        )


def test_concurrent_drains_never_process_an_event_twice(
    db: Database, tenant: Tenant, dispatcher: RecordingDispatcher
) -> None:
    ids = accept_probes(db, tenant.workspace.id, *(probe_event() for _ in range(400))).event_ids
    errors: list[BaseException] = []

    def drain() -> None:
        try:
            service.drain_workspace(db, tenant.workspace.id)
        except BaseException as exc:  # pragma: no cover - surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=drain) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert processed_counts(db) == dict.fromkeys(ids, 1)
    with db.transaction() as session:
        assert session.scalar(select(func.count()).where(InboundEvent.status != "done")) == 0


def test_handlers_are_looked_up_by_source() -> None:
    assert handlers.get("probe") is tests.support.inbox_probe.handle_probe
    assert handlers.get(str(uuid.uuid4())) is None


def test_finishing_needs_the_claim(db: Database, tenant: Tenant, dispatcher: RecordingDispatcher) -> None:
    event_id = accept_probes(db, tenant.workspace.id, probe_event()).event_ids[0]
    forged = ClaimedBatch(tenant.workspace.id, "probe", uuid.uuid4(), [])
    with pytest.raises(LeaseLost), db.transaction() as session:
        finish_events(session, forged, {event_id: service.DONE})
    assert statuses(db) == {event_id: "pending"}


class TestFailureIsolation:
    def test_one_bad_event_does_not_fail_the_rest_of_its_batch(
        self, db: Database, tenant: Tenant, dispatcher: RecordingDispatcher
    ) -> None:
        good = accept_probes(db, tenant.workspace.id, probe_event(), probe_event()).event_ids
        bad = accept_probes(db, tenant.workspace.id, probe_event(fail=True)).event_ids
        more = accept_probes(db, tenant.workspace.id, probe_event()).event_ids
        service.drain_workspace(db, tenant.workspace.id)  # all four claimed in one batch
        assert processed_counts(db) == dict.fromkeys(good + more, 1)
        # retried on its own (the tests' backoff is zero, so until it runs out of attempts)
        assert statuses(db) == {**dict.fromkeys(good + more, "done"), bad[0]: "failed"}

    def test_retry_later_sends_the_whole_batch_back_without_splitting(
        self, db: Database, tenant: Tenant, dispatcher: RecordingDispatcher
    ) -> None:
        calls: list[int] = []

        @handlers.register("outage")
        def vendor_down(_db: Database, batch: ClaimedBatch) -> None:
            calls.append(len(batch.events))
            raise service.RetryLater("HubSpot answers 503", delay_seconds=30)

        with db.transaction() as session:
            accept_events(session, tenant.workspace.id, "outage", [NewEvent("x", str(i), {}) for i in range(5)])
        service.drain_workspace(db, tenant.workspace.id)
        assert calls == [5]
        with db.transaction() as session:
            events = session.scalars(select(InboundEvent)).all()
        assert {event.status for event in events} == {"pending"}
        assert all(event.last_error == "HubSpot answers 503" for event in events)
        assert all(event.next_attempt_at > utc_now() + timedelta(seconds=25) for event in events)


class TestCoalescing:
    @staticmethod
    def hint(record: str, key: str) -> NewEvent:
        return NewEvent("contact.propertyChange", key, {}, "contact", record, coalescible=True)

    def test_hints_about_a_record_with_an_event_waiting_are_dropped(
        self, db: Database, tenant: Tenant, dispatcher: RecordingDispatcher
    ) -> None:
        with db.transaction() as session:
            first = accept_events(session, tenant.workspace.id, "probe", [self.hint("7", "a"), self.hint("7", "b")])
            second = accept_events(session, tenant.workspace.id, "probe", [self.hint("7", "c"), self.hint("8", "d")])
        assert (first.accepted, first.duplicates) == (1, 1)
        assert (second.accepted, second.duplicates) == (1, 1)  # "7" still waits; "8" is new
        service.drain_workspace(db, tenant.workspace.id)
        with db.transaction() as session:
            after = accept_events(session, tenant.workspace.id, "probe", [self.hint("7", "e")])
        assert after.accepted == 1  # processed since: a new change needs a new look

    def test_events_that_carry_identity_are_never_coalesced(
        self, db: Database, tenant: Tenant, dispatcher: RecordingDispatcher
    ) -> None:
        merge = NewEvent("contact.merge", "m", {"mergedObjectIds": [7]}, "contact", "7")
        with db.transaction() as session:
            accept_events(session, tenant.workspace.id, "probe", [self.hint("7", "a")])
            result = accept_events(session, tenant.workspace.id, "probe", [merge])
        assert result.accepted == 1
