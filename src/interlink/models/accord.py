from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from interlink.kit.model import Model, TimestampMixin, UUIDKeyMixin
from interlink.kit.time import utc_now


class AccordLink(UUIDKeyMixin, TimestampMixin, Model):
    """One Accord and the HubSpot deal its data is pushed to, with what was last pushed there.

    ``deal_id`` is the deal we push to; a deal takes one Accord at most (two Accords writing the same deal
    would overwrite each other on every view). ``requested_deal_id`` is a deal Accord asked for that we did
    not take on our own (another deal than the linked one, or a deal already taken): the link is flagged and
    its pushes held until an admin relinks it. ``snapshot`` is the newest data received (by the envelope's
    keys) and ``pushed`` the value last written to each deal property (by internal name), so data that did
    not change is never written again.
    """

    __tablename__ = "accord_links"
    __table_args__ = (
        UniqueConstraint("workspace_id", "accord_id"),
        UniqueConstraint("workspace_id", "deal_id"),
        Index("ix_accord_links_workspace_flagged", "workspace_id", "flagged"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    accord_id: Mapped[str] = mapped_column(String(60))
    deal_id: Mapped[str | None] = mapped_column(String(40))
    requested_deal_id: Mapped[str | None] = mapped_column(String(40))
    linked_by: Mapped[str] = mapped_column(String(10))  # event | api | merge
    flagged: Mapped[bool] = mapped_column(default=False)
    flag_reason: Mapped[str | None] = mapped_column(String(30))  # deal_mismatch | deal_taken | deal_missing
    flag_detail: Mapped[str | None] = mapped_column(Text)
    flagged_at: Mapped[datetime | None]
    snapshot: Mapped[dict[str, Any]] = mapped_column(default=dict)
    snapshot_at: Mapped[datetime | None]  # when the snapshot's event occurred (newer events win)
    snapshot_trigger: Mapped[str | None] = mapped_column(String(40))
    pushed: Mapped[dict[str, Any]] = mapped_column(default=dict)
    last_pushed_at: Mapped[datetime | None]


class AccordSettings(Model):
    """A workspace's Accord push settings: the deal properties' internal names, and the last provisioning."""

    __tablename__ = "accord_settings"

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True)
    property_names: Mapped[dict[str, Any]] = mapped_column(default=dict)
    provisioned_at: Mapped[datetime | None]
    provision_report: Mapped[dict[str, Any] | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)
