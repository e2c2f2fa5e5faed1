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

    ``dedupe_key`` makes a redelivery a no-op. An event is claimed by a worker with a lease (``claim_token``,
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
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(80))
    dedupe_key: Mapped[str] = mapped_column(String(200))
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
