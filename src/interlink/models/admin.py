from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from interlink.kit.model import Model, UUIDKeyMixin
from interlink.kit.time import utc_now


class AdminUser(UUIDKeyMixin, Model):
    """A person who signs in to the admin UI of one workspace. Only an Argon2id hash of the password is kept.

    ``failed_attempts`` counts wrong passwords since the last success; reaching the limit sets
    ``locked_until`` (sign-in refused until then, even with the right password).
    """

    __tablename__ = "admin_users"
    __table_args__ = (UniqueConstraint("workspace_id", "email"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    failed_attempts: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    disabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    last_signed_in_at: Mapped[datetime | None]
    password_changed_at: Mapped[datetime] = mapped_column(default=utc_now)


class AdminSession(UUIDKeyMixin, Model):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored here.

    ``csrf_token`` is the synchronizer token every form of this session must send back. ``flash`` holds the
    messages to show on the next page (after a POST that redirects).
    """

    __tablename__ = "admin_sessions"
    __table_args__ = (Index("ix_admin_sessions_user", "user_id"),)

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("admin_users.id", ondelete="CASCADE"))
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    last_seen_at: Mapped[datetime] = mapped_column(default=utc_now)
    expires_at: Mapped[datetime]
    user_agent: Mapped[str | None] = mapped_column(String(300))
    # pending OAuth handshakes and flash messages: small, short-lived, server-side only
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
