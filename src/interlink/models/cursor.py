from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from interlink.kit.model import Model, UUIDKeyMixin
from interlink.kit.time import utc_now


class SyncCursor(UUIDKeyMixin, Model):
    """Where a polling feed got to (``accelo:contacts``, ``hubspot:companies``), per workspace."""

    __tablename__ = "sync_cursors"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)
