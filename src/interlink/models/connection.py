from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from interlink.kit.model import Model, TimestampMixin, UUIDKeyMixin


class Connection(UUIDKeyMixin, TimestampMixin, Model):
    """A workspace's account in one vendor system (HubSpot portal, Accelo deployment, Accord workspace).

    Secrets live only in ``credentials_ciphertext`` (Fernet, key derived from the secret key); ``settings``
    holds what is safe to show (base URL, app id, scopes).
    """

    __tablename__ = "connections"
    __table_args__ = (
        UniqueConstraint("workspace_id", "system"),
        # Webhooks name the account (HubSpot's portalId), so an account can belong to one workspace only.
        UniqueConstraint("system", "external_account_id"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    system: Mapped[str] = mapped_column(String(20))
    external_account_id: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="connected")
    status_detail: Mapped[str | None] = mapped_column(Text)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    credentials_ciphertext: Mapped[str] = mapped_column(Text)
    last_checked_at: Mapped[datetime | None]
