from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, Table, and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from interlink.kit.repository import Repository, WorkspaceRepository
from interlink.models import InboundEvent


class InboundEventRepository(Repository[InboundEvent]):
    """Queue operations across workspaces (used by workers and the sweeper)."""

    model = InboundEvent

    def insert_new(self, rows: list[dict[str, Any]]) -> list[int]:
        """Insert events, skipping any whose dedupe key is already stored or whose pending key is already
        waiting; returns the new ids."""
        if not rows:
            return []
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        # No conflict target: both unique keys (dedupe_key, and pending_key while pending) arbitrate.
        # One statement compiled once and cached, sent as multi-row VALUES pages (SQLAlchemy's insertmanyvalues).
        table = cast(Table, InboundEvent.__table__)
        statement = insert(table).on_conflict_do_nothing().returning(table.c.id)
        return list(self.session.execute(statement, rows).scalars())

    def waiting_keys(self, workspace_id: uuid.UUID, source: str, pending_keys: Sequence[str]) -> set[str]:
        """Which of these pending keys (records) already have a hint waiting that no worker has claimed yet.

        An event back in the queue after a failed attempt does not count (its pending key was cleared when it
        was claimed): it waits out a back-off, and a new hint about its record is due now (it may be a change
        that the failing attempt never read)."""
        found: set[str] = set()
        for start in range(0, len(pending_keys), 500):
            statement = select(InboundEvent.pending_key).where(
                InboundEvent.workspace_id == workspace_id,
                InboundEvent.source == source,
                InboundEvent.status == "pending",
                InboundEvent.pending_key.in_(pending_keys[start : start + 500]),
            )
            found.update(str(key) for key in self.session.execute(statement).scalars())
        return found

    def claim_due(
        self,
        *,
        workspace_id: uuid.UUID,
        now: datetime,
        limit: int,
        claim_token: uuid.UUID,
        claimed_by: str,
        lease_expires_at: datetime,
    ) -> Sequence[InboundEvent]:
        due = (
            select(InboundEvent.id)
            .where(
                InboundEvent.workspace_id == workspace_id,
                InboundEvent.status == "pending",
                InboundEvent.next_attempt_at <= now,
            )
            .order_by(InboundEvent.id)
            .limit(limit)
        )
        claim = update(InboundEvent).values(
            status="processing",
            pending_key=None,  # from now on a new hint about this record may be a change the re-read misses
            claim_token=claim_token,
            claimed_by=claimed_by,
            lease_expires_at=lease_expires_at,
            attempts=InboundEvent.attempts + 1,
        )
        if self.session.get_bind().dialect.name == "postgresql":
            # Concurrent workers take disjoint batches. The CTE is MATERIALIZED so it runs once: as an
            # IN (...) subquery PostgreSQL may rescan it per row, and each rescan skips the rows this very
            # UPDATE already changed, so LIMIT would keep reaching further and claim far more than asked.
            locked = due.with_for_update(skip_locked=True).cte("due").prefix_with("MATERIALIZED")
            claim = claim.where(InboundEvent.id == locked.c.id)
        else:
            # SQLite has one writer at a time; re-checking the status keeps the claim atomic.
            claim = claim.where(InboundEvent.id.in_(due.scalar_subquery()), InboundEvent.status == "pending")
        self.session.execute(claim.execution_options(synchronize_session=False))
        return self.all(select(InboundEvent).where(InboundEvent.claim_token == claim_token).order_by(InboundEvent.id))

    def due_times(self, workspace_id: uuid.UUID, now: datetime, limit: int) -> list[datetime]:
        """When each of the first ``limit`` due events became due, earliest first (reads the due index only)."""
        statement = (
            select(InboundEvent.next_attempt_at)
            .where(
                InboundEvent.workspace_id == workspace_id,
                InboundEvent.status == "pending",
                InboundEvent.next_attempt_at <= now,
            )
            .order_by(InboundEvent.next_attempt_at)
            .limit(limit)
        )
        return list(self.session.execute(statement).scalars())

    def still_claimed(self, ids: Sequence[int], claim_token: uuid.UUID) -> set[int]:
        """The ids still held under ``claim_token``, locked until the transaction ends."""
        statement = (
            select(InboundEvent.id)
            .where(
                InboundEvent.id.in_(ids),
                InboundEvent.claim_token == claim_token,
                InboundEvent.status == "processing",
            )
            .with_for_update()
        )
        return set(self.session.execute(statement).scalars())

    def set_outcome(self, ids: Sequence[int], **values: Any) -> None:
        if ids:
            self.session.execute(
                update(InboundEvent)
                .where(InboundEvent.id.in_(ids))
                .values(claim_token=None, claimed_by=None, lease_expires_at=None, **values)
                .execution_options(synchronize_session=False)
            )

    def expired_leases(self, now: datetime) -> Sequence[InboundEvent]:
        return self.all(
            select(InboundEvent)
            .where(InboundEvent.status == "processing", InboundEvent.lease_expires_at < now)
            .with_for_update(skip_locked=True)
        )

    def workspaces_with_due_events(self, now: datetime) -> list[uuid.UUID]:
        statement = (
            select(InboundEvent.workspace_id)
            .where(InboundEvent.status == "pending", InboundEvent.next_attempt_at <= now)
            .distinct()
        )
        return list(self.session.execute(statement).scalars())

    def has_due(self, workspace_id: uuid.UUID, now: datetime) -> bool:
        statement = select(
            select(InboundEvent.id)
            .where(
                InboundEvent.workspace_id == workspace_id,
                InboundEvent.status == "pending",
                InboundEvent.next_attempt_at <= now,
            )
            .exists()
        )
        return bool(self.session.execute(statement).scalar())


class WorkspaceEventRepository(WorkspaceRepository[InboundEvent]):
    """What one workspace may see of its inbox (the REST API)."""

    model = InboundEvent

    def list_statement(
        self, *, status: str | None, source: str | None, before_id: int | None, limit: int
    ) -> Select[InboundEvent]:
        statement = self.base_statement()
        if status:
            statement = statement.where(InboundEvent.status == status)
        if source:
            statement = statement.where(InboundEvent.source == source)
        if before_id is not None:
            statement = statement.where(InboundEvent.id < before_id)
        return statement.order_by(InboundEvent.id.desc()).limit(limit)

    def count_by_status(self) -> dict[str, int]:
        statement = (
            select(InboundEvent.status, func.count())
            .where(InboundEvent.workspace_id == self.workspace_id)
            .group_by(InboundEvent.status)
        )
        return {status: count for status, count in self.session.execute(statement).all()}

    def oldest_pending_received_at(self) -> datetime | None:
        statement = select(func.min(InboundEvent.received_at)).where(
            and_(InboundEvent.workspace_id == self.workspace_id, InboundEvent.status == "pending")
        )
        return self.session.execute(statement).scalar()

    def per_minute(self, since: datetime) -> tuple[dict[int, int], dict[int, float]]:
        """Events received per minute, and the longest wait (received -> processed) of the events finished in
        each minute, since ``since``. Minutes are keyed by whole minutes since the epoch. Bucketed here rather
        than in SQL, where minute arithmetic differs by database; two timestamps an event stay cheap for the
        hour a dashboard shows."""
        rows = self.session.execute(
            select(InboundEvent.received_at, InboundEvent.processed_at).where(
                InboundEvent.workspace_id == self.workspace_id,
                or_(InboundEvent.received_at >= since, InboundEvent.processed_at >= since),
            )
        ).all()
        received: dict[int, int] = {}
        waits: dict[int, float] = {}
        for received_at, processed_at in rows:
            if received_at >= since:
                bucket = int(received_at.timestamp() // 60)
                received[bucket] = received.get(bucket, 0) + 1
            if processed_at is not None and processed_at >= since:
                bucket = int(processed_at.timestamp() // 60)
                wait = max(0.0, (processed_at - received_at).total_seconds())
                waits[bucket] = max(waits.get(bucket, 0.0), wait)
        return received, waits
