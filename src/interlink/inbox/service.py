"""Accepting, claiming, finishing and sweeping inbox events.

The life of an event: ``pending`` -> claimed by a worker (``processing``, with a lease) -> the source's
handler reconciles it and, in the same transaction as its own writes, finishes it as ``done``, ``ignored``,
``failed``, or back to ``pending`` with a delay. A worker that dies leaves its lease to expire; the sweeper
returns the event to ``pending``. Because a handler's writes and the event's outcome commit together,
an event whose worker died had no effect, and the retry processes it exactly once.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy.orm import Session

from interlink.errors import Conflict, NotFound
from interlink.inbox import handlers
from interlink.inbox.repository import InboundEventRepository, WorkspaceEventRepository
from interlink.inbox.schemas import InboxActivity, MinuteActivity
from interlink.kit.time import ensure_utc, utc_now
from interlink.metrics import count_processed
from interlink.models import InboundEvent
from interlink.worker.enqueue import enqueue_job

if TYPE_CHECKING:
    from interlink.db import Database

log = logging.getLogger(__name__)

DRAIN_TASK = "inbox.drain"
WORKER_NAME = f"{socket.gethostname()}:{os.getpid()}"
MAX_RETRY_DELAY_SECONDS = 3600.0


@dataclass(frozen=True)
class NewEvent:
    kind: str
    dedupe_key: str
    payload: dict[str, Any]
    object_type: str | None = None
    object_id: str | None = None
    occurred_at: datetime | None = None
    # A hint that the record changed, with nothing else in it: dropped when the record already has an event
    # waiting, because that event's re-read (after it is claimed, so after this change) sees this change too.
    # Events that carry identity (merges) or intent (deletions) are never coalesced.
    coalescible: bool = False

    @property
    def pending_key(self) -> str | None:
        """For a hint: the record it is about, unique among pending events (the database enforces it)."""
        if self.coalescible and self.object_type and self.object_id:
            return f"{self.object_type}:{self.object_id}"
        return None


@dataclass(frozen=True)
class AcceptResult:
    accepted: int
    duplicates: int
    event_ids: list[int]


def accept_events(session: Session, workspace_id: uuid.UUID, source: str, events: Sequence[NewEvent]) -> AcceptResult:
    """Store events (a redelivered dedupe key is dropped; a coalescible hint about a record that already has
    an event waiting is dropped too) and schedule a drain once this commits.

    The look-up of waiting records spares the insert most duplicates; the unique ``pending_key`` is what
    makes it exact when two deliveries about one record race (the second insert finds the first's key)."""
    now = utc_now()
    unique: dict[str, NewEvent] = {}
    keys = list({key for event in events if (key := event.pending_key)})
    # records with a hint already waiting, or given one by an earlier event of this delivery
    hinted = InboundEventRepository(session).waiting_keys(workspace_id, source, keys) if keys else set()
    for event in events:
        key = event.pending_key
        if key:
            if key in hinted:
                continue
            hinted.add(key)
        unique.setdefault(event.dedupe_key, event)
    rows = [
        {
            "workspace_id": workspace_id,
            "source": source,
            "kind": event.kind,
            "dedupe_key": event.dedupe_key,
            "pending_key": event.pending_key,
            "object_type": event.object_type,
            "object_id": event.object_id,
            "payload": event.payload,
            "occurred_at": event.occurred_at,
            "received_at": now,
            "next_attempt_at": now,
            "status": "pending",
            "attempts": 0,
        }
        for event in unique.values()
    ]
    ids = InboundEventRepository(session).insert_new(rows)
    if ids:
        enqueue_job(session, DRAIN_TASK, workspace_id=str(workspace_id))
    return AcceptResult(accepted=len(ids), duplicates=len(events) - len(ids), event_ids=ids)


# -- claiming ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimedEvent:
    """A detached view of a claimed event; handlers never hold ORM rows across transactions."""

    id: int
    kind: str
    object_type: str | None
    object_id: str | None
    payload: dict[str, Any]
    occurred_at: datetime | None
    received_at: datetime
    attempts: int


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_seconds: float = 5.0

    def delay(self, attempts: int, at_least: float | None = None) -> float:
        backoff: float = min(MAX_RETRY_DELAY_SECONDS, self.base_seconds * 2.0 ** max(0, attempts - 1))
        return max(backoff * random.uniform(0.5, 1.0), at_least or 0.0)


@dataclass
class ClaimedBatch:
    workspace_id: uuid.UUID
    source: str
    claim_token: uuid.UUID
    events: list[ClaimedEvent]
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    finished: set[int] = field(default_factory=set)

    @property
    def event_ids(self) -> list[int]:
        return [event.id for event in self.events]


OutcomeStatus = Literal["done", "ignored", "retry", "failed"]


@dataclass(frozen=True)
class Outcome:
    status: OutcomeStatus
    error: str | None = None
    # For "retry": wait at least this long (e.g. a vendor's Retry-After); otherwise exponential backoff.
    delay_seconds: float | None = None


DONE = Outcome("done")


class LeaseLost(Exception):
    """The sweeper took back some of this batch (the worker was too slow); its transaction must roll back."""


class RetryLater(Exception):
    """Raised by a handler when the whole batch failed for a reason outside any one event (a vendor is down,
    a rate limit): every unfinished event goes back to the queue, with at least ``delay_seconds`` of wait.
    Any other exception is taken to be about some event, so the batch is split and each event retried alone,
    and one bad record cannot hold up the others."""

    def __init__(self, reason: str, *, delay_seconds: float | None = None) -> None:
        super().__init__(reason)
        self.delay_seconds = delay_seconds


def claim_batch(db: Database, workspace_id: uuid.UUID) -> list[ClaimedBatch]:
    settings = db.settings
    token = uuid.uuid4()
    now = utc_now()
    with db.transaction() as session:
        rows = InboundEventRepository(session).claim_due(
            workspace_id=workspace_id,
            now=now,
            limit=settings.inbox_batch_size,
            claim_token=token,
            claimed_by=WORKER_NAME,
            lease_expires_at=now + timedelta(seconds=settings.inbox_lease_seconds),
        )
        by_source: dict[str, list[ClaimedEvent]] = defaultdict(list)
        for row in rows:
            by_source[row.source].append(_view(row))
    policy = RetryPolicy(settings.inbox_max_attempts, settings.inbox_retry_base_seconds)
    return [ClaimedBatch(workspace_id, source, token, events, policy) for source, events in by_source.items()]


def _view(row: InboundEvent) -> ClaimedEvent:
    return ClaimedEvent(
        id=row.id,
        kind=row.kind,
        object_type=row.object_type,
        object_id=row.object_id,
        payload=row.payload,
        occurred_at=row.occurred_at,
        received_at=row.received_at,
        attempts=row.attempts,
    )


# -- finishing ---------------------------------------------------------------------------------------------


def finish_events(session: Session, batch: ClaimedBatch, outcomes: dict[int, Outcome]) -> dict[int, datetime]:
    """Record outcomes in the caller's transaction, so they commit together with the handler's own writes.
    Returns when each event sent back for a retry is due again.

    Raises LeaseLost if the sweeper reclaimed any of these events in the meantime: the caller's transaction
    must then roll back, and the events are processed again from scratch.
    """
    if not outcomes:
        return {}
    repository = InboundEventRepository(session)
    held = repository.still_claimed(list(outcomes), batch.claim_token)
    if held != set(outcomes):
        raise LeaseLost(f"{len(set(outcomes) - held)} event(s) were reclaimed before they were finished")
    attempts = {event.id: event.attempts for event in batch.events}
    now = utc_now()
    grouped: dict[tuple[str, str | None, datetime | None], list[int]] = defaultdict(list)
    for event_id, outcome in outcomes.items():
        status, next_at = _resolve(outcome, attempts.get(event_id, 1), now, batch.retry)
        grouped[(status, outcome.error, next_at)].append(event_id)
    retry_at: dict[int, datetime] = {}
    tally: Counter[str] = Counter()
    for (status, error, next_at), ids in grouped.items():
        values: dict[str, Any] = {"status": status, "last_error": error}
        if status in {"done", "ignored", "failed"}:
            values["processed_at"] = now
        if next_at is not None:
            values["next_attempt_at"] = next_at
            retry_at.update(dict.fromkeys(ids, next_at))
        repository.set_outcome(ids, **values)
        tally["retried" if status == "pending" else status] += len(ids)
    batch.finished.update(outcomes)
    count_processed(session, batch.source, tally)
    return retry_at


def _resolve(outcome: Outcome, attempts: int, now: datetime, policy: RetryPolicy) -> tuple[str, datetime | None]:
    if outcome.status != "retry":
        return outcome.status, None
    if attempts >= policy.max_attempts:
        return "failed", None
    return "pending", now + timedelta(seconds=policy.delay(attempts, outcome.delay_seconds))


# -- draining ----------------------------------------------------------------------------------------------


@dataclass
class DrainResult:
    claimed: int = 0
    batches: int = 0
    more_due: bool = False


def drain_workspace(db: Database, workspace_id: uuid.UUID, *, time_budget_seconds: float = 20.0) -> DrainResult:
    """Claim and handle due events of one workspace until none are left or the time budget is spent."""
    result = DrainResult()
    deadline = time.monotonic() + time_budget_seconds
    while True:
        wait = seconds_until_batch_ready(db, workspace_id)
        if wait is None:
            return result
        if wait > 0:
            if time.monotonic() + wait > deadline:
                return _hand_over(db, workspace_id, result)
            # Events arriving meanwhile join the batch. Then look again: another worker may have taken it.
            time.sleep(wait)
            continue
        batches = claim_batch(db, workspace_id)
        if not batches:
            continue  # another worker took them
        result.batches += 1
        for batch in batches:
            result.claimed += len(batch.events)
            _handle(db, batch)
        if time.monotonic() > deadline:
            return _hand_over(db, workspace_id, result)


def _hand_over(db: Database, workspace_id: uuid.UUID, result: DrainResult) -> DrainResult:
    """Yield the worker; another drain picks up where this one stopped."""
    with db.transaction() as session:
        if InboundEventRepository(session).has_due(workspace_id, utc_now()):
            enqueue_job(session, DRAIN_TASK, workspace_id=str(workspace_id))
            result.more_due = True
    return result


def seconds_until_batch_ready(db: Database, workspace_id: uuid.UUID) -> float | None:
    """How long to wait before claiming: 0 once a full batch is due or the oldest due event has lingered for
    ``inbox_linger_seconds`` (a trickle of webhooks becomes one batch read instead of many); None when
    nothing is due."""
    settings = db.settings
    now = utc_now()
    with db.reading() as session:
        due = InboundEventRepository(session).due_times(workspace_id, now, settings.inbox_batch_size)
    if not due:
        return None
    if len(due) >= settings.inbox_batch_size or settings.inbox_linger_seconds <= 0:
        return 0.0
    waited = (now - ensure_utc(due[0])).total_seconds()
    return max(0.0, settings.inbox_linger_seconds - waited)


def _handle(db: Database, batch: ClaimedBatch) -> None:
    handler = handlers.get(batch.source)
    if handler is None:
        _finish_remaining(db, batch, Outcome("failed", f"no handler for events from {batch.source!r}"))
        return
    try:
        handler(db, batch)
    except LeaseLost as exc:
        log.warning("batch of %d %s event(s) lost its lease: %s", len(batch.events), batch.source, exc)
        return
    except RetryLater as exc:
        log.warning("%d %s event(s) will be retried: %s", len(batch.events), batch.source, exc)
        _finish_remaining(db, batch, Outcome("retry", str(exc), exc.delay_seconds))
        return
    except Exception as exc:
        remaining = [event for event in batch.events if event.id not in batch.finished]
        if len(remaining) > 1:
            log.warning(
                "handler for %s failed on a batch; retrying its %d event(s) one by one: %s",
                batch.source,
                len(remaining),
                exc,
            )
            for event in remaining:
                _handle(
                    db,
                    ClaimedBatch(batch.workspace_id, batch.source, batch.claim_token, [event], batch.retry),
                )
            return
        log.exception("handler for %s failed on event %s", batch.source, batch.event_ids)
        _finish_remaining(db, batch, Outcome("retry", f"{type(exc).__name__}: {exc}"))
        return
    if len(batch.finished) < len(batch.events):
        _finish_remaining(db, batch, Outcome("retry", "the handler returned without finishing this event"))


def _finish_remaining(db: Database, batch: ClaimedBatch, outcome: Outcome) -> None:
    remaining = [event_id for event_id in batch.event_ids if event_id not in batch.finished]
    try:
        with db.transaction() as session:
            held = InboundEventRepository(session).still_claimed(remaining, batch.claim_token)
            finish_events(session, batch, dict.fromkeys(held, outcome))
    except LeaseLost:  # pragma: no cover - still_claimed already filtered to what we hold
        pass


# -- sweeping ----------------------------------------------------------------------------------------------


@dataclass
class SweepResult:
    requeued: int = 0
    failed: int = 0
    drains: int = 0


def sweep(db: Database) -> SweepResult:
    """Return expired leases to pending (or fail them after too many attempts) and enqueue drains for every
    workspace with due events, so a lost message, a broker outage or a killed worker loses nothing."""
    settings = db.settings
    result = SweepResult()
    now = utc_now()
    with db.transaction() as session:
        repository = InboundEventRepository(session)
        for event in repository.expired_leases(now):
            if event.attempts >= settings.inbox_max_attempts:
                repository.set_outcome(
                    [event.id],
                    status="failed",
                    processed_at=now,
                    last_error=f"worker lost while processing, {event.attempts} time(s)",
                )
                count_processed(session, event.source, Counter(failed=1))
                result.failed += 1
            else:
                repository.set_outcome([event.id], status="pending", next_attempt_at=now)
                result.requeued += 1
        for workspace_id in repository.workspaces_with_due_events(now):
            enqueue_job(session, DRAIN_TASK, workspace_id=str(workspace_id))
            result.drains += 1
    if result.requeued or result.failed:
        log.warning("sweeper: %d expired lease(s) requeued, %d failed", result.requeued, result.failed)
    return result


# -- the REST side -----------------------------------------------------------------------------------------


def get_event(session: Session, workspace_id: uuid.UUID, event_id: int) -> InboundEvent:
    event = WorkspaceEventRepository(session, workspace_id).get(event_id)
    if event is None:
        raise NotFound(f"event {event_id} not found")
    return event


def retry_event(session: Session, workspace_id: uuid.UUID, event_id: int) -> InboundEvent:
    event = get_event(session, workspace_id, event_id)
    if event.status != "failed":
        raise Conflict(f"event {event_id} is {event.status}; only failed events can be retried")
    event.status = "pending"
    event.attempts = 0
    event.next_attempt_at = utc_now()
    event.last_error = None
    event.processed_at = None
    session.flush()
    enqueue_job(session, DRAIN_TASK, workspace_id=str(workspace_id))
    return event


def list_events(
    session: Session,
    workspace_id: uuid.UUID,
    *,
    status: str | None,
    source: str | None,
    before_id: int | None,
    limit: int,
) -> Sequence[InboundEvent]:
    repository = WorkspaceEventRepository(session, workspace_id)
    return repository.all(repository.list_statement(status=status, source=source, before_id=before_id, limit=limit))


def activity(session: Session, workspace_id: uuid.UUID, *, minutes: int = 60) -> InboxActivity:
    """Events received per minute over the last ``minutes``, the longest wait of the events processed in each
    minute (the inbox lag as it was), and the backlog now."""
    now = utc_now()
    end = int(now.timestamp() // 60)
    start = end - minutes + 1
    repository = WorkspaceEventRepository(session, workspace_id)
    received, waits = repository.per_minute(datetime.fromtimestamp(start * 60, tz=now.tzinfo))
    oldest = repository.oldest_pending_received_at()
    counts = repository.count_by_status()
    return InboxActivity(
        minutes=[
            MinuteActivity(
                minute=datetime.fromtimestamp(bucket * 60, tz=now.tzinfo),
                received=received.get(bucket, 0),
                longest_wait_seconds=waits.get(bucket),
            )
            for bucket in range(start, end + 1)
        ],
        pending=counts.get("pending", 0) + counts.get("processing", 0),
        oldest_pending_age_seconds=(now - oldest).total_seconds() if oldest else None,
    )
