from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from interlink.kit.model import Model, TimestampMixin, UUIDKeyMixin

OPEN_LINK = text("state <> 'closed'")


class Link(UUIDKeyMixin, TimestampMixin, Model):
    """Pairs one HubSpot record with one Accelo record of the same type, with the last agreed values.

    ``snapshot`` maps each mapped field to the canonical value both sides agreed on at the last sync: the
    base of the three-way merge. An open link is unique per side; a closed link is history and frees both
    ids. A record that could not be paired yet (needs review, waiting) has one side empty.
    """

    __tablename__ = "links"
    __table_args__ = (
        CheckConstraint("hubspot_id IS NOT NULL OR accelo_id IS NOT NULL", name="one_side_set"),
        Index(
            "uq_links_hubspot_open",
            "workspace_id",
            "object_type",
            "hubspot_id",
            unique=True,
            postgresql_where=OPEN_LINK,
            sqlite_where=OPEN_LINK,
        ),
        Index(
            "uq_links_accelo_open",
            "workspace_id",
            "object_type",
            "accelo_id",
            unique=True,
            postgresql_where=OPEN_LINK,
            sqlite_where=OPEN_LINK,
        ),
        Index("ix_links_workspace_state", "workspace_id", "state"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    object_type: Mapped[str] = mapped_column(String(20))
    hubspot_id: Mapped[str | None] = mapped_column(String(40))
    accelo_id: Mapped[str | None] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(20), default="in_sync")
    state_reason: Mapped[str | None] = mapped_column(Text)
    matched_by: Mapped[str | None] = mapped_column(String(30))
    snapshot: Mapped[dict[str, Any]] = mapped_column(default=dict)
    field_states: Mapped[dict[str, Any]] = mapped_column(default=dict)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_synced_at: Mapped[datetime | None]
    # in the review queue: a person should look (closed by a deletion, duplicate, blocked status, ...)
    flagged: Mapped[bool] = mapped_column(default=False)
    # which system our last write for this link went to: an event from there that changes nothing is our echo
    last_written_side: Mapped[str | None] = mapped_column(String(10))
    last_written_at: Mapped[datetime | None]
