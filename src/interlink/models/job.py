from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from interlink.kit.model import Model, UUIDKeyMixin
from interlink.kit.time import utc_now


class Job(UUIDKeyMixin, Model):
    """A bulk pull or push. ``checkpoint`` is written after every page so a killed job resumes."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_workspace_created", "workspace_id", "created_at"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    object_types: Mapped[list[Any]]
    filter: Mapped[dict[str, Any] | None]
    dry_run: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(12), default="queued")
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    checkpoint: Mapped[dict[str, Any]] = mapped_column(default=dict)
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    samples: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    claim_token: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
