from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from interlink.kit.model import Model, TimestampMixin, UUIDKeyMixin
from interlink.kit.time import utc_now


class Workspace(UUIDKeyMixin, TimestampMixin, Model):
    """A tenant. Every other tenant-owned row carries its workspace_id."""

    __tablename__ = "workspaces"

    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # Typed by interlink.workspaces.schemas.WorkspaceOptions; kept as JSON so options can grow freely.
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ApiToken(UUIDKeyMixin, Model):
    """A workspace-scoped bearer token. Only its SHA-256 is stored; the token is shown once."""

    __tablename__ = "api_tokens"

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
