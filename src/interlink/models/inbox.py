from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from interlink.kit.model import BigIntId, Model
from interlink.kit.time import utc_now


class InboundEvent(Model):
    """The inbox: every accepted webhook, stored raw before it is acknowledged.

    ``dedupe_key`` makes a redelivery a no-op. ``pending_key`` (the record, on events that only hint that it
    changed) is unique among pending events, so a hint about a record that already has one waiting is dropped
    without a race; a worker's claim clears it (the re-read comes after the claim, so the next hint may be a
    change that re-read missed, and is stored). An event is claimed by a worker with a lease (``claim_token``,
    ``lease_expires_at``); a sweeper returns expired leases to ``pending``, so a killed worker loses nothing.
    """

    __tablename__ = "inbound_events"
    __table_args__ = (
        UniqueConstraint("workspace_id", "source", "dedupe_key"),
        Index(
            "ix_inbound_events_due",
            "workspace_id",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        Index("ix_inbound_events_status", "status", "lease_expires_at"),
        Index("ix_inbound_events_record", "workspace_id", "source", "object_type", "object_id"),
        Index(
            "uq_inbound_events_pending_key",
            "workspace_id",
            "source",
            "pending_key",
            unique=True,
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(80))
    dedupe_key: Mapped[str] = mapped_column(String(200))
    pending_key: Mapped[str | None] = mapped_column(String(100))
    object_type: Mapped[str | None] = mapped_column(String(20))
    object_id: Mapped[str | None] = mapped_column(String(60))
    payload: Mapped[dict[str, Any]]
    occurred_at: Mapped[datetime | None]
    received_at: Mapped[datetime] = mapped_column(default=utc_now)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utc_now)
    claim_token: Mapped[uuid.UUID | None]
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    lease_expires_at: Mapped[datetime | None]
    processed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
