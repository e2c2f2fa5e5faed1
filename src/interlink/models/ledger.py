from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from interlink.kit.model import BigIntId, JSONType, Model
from interlink.kit.time import utc_now


class LedgerEntry(Model):
    """The audit trail: one row per sync decision, tied to the events or job that caused it.

    Append-only. It answers "why did this field change?": created, linked, updated (field, old, new,
    direction), echo ignored, conflict resolved (winner, losing value), skipped by rule, needs review, failed.
    """

    __tablename__ = "sync_ledger"
    __table_args__ = (
        Index("ix_sync_ledger_link", "workspace_id", "link_id", "id"),
        Index("ix_sync_ledger_workspace", "workspace_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    action: Mapped[str] = mapped_column(String(30))
    link_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("links.id", ondelete="SET NULL"))
    object_type: Mapped[str | None] = mapped_column(String(20))
    hubspot_id: Mapped[str | None] = mapped_column(String(40))
    accelo_id: Mapped[str | None] = mapped_column(String(40))
    field: Mapped[str | None] = mapped_column(String(200))
    direction: Mapped[str | None] = mapped_column(String(20))
    old_value: Mapped[Any | None] = mapped_column(JSONType)
    new_value: Mapped[Any | None] = mapped_column(JSONType)
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    event_ids: Mapped[list[Any]] = mapped_column(default=list)
    job_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"), index=True)
