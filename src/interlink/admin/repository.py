from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select

from interlink.kit.repository import Repository, WorkspaceRepository
from interlink.models import AdminSession, AdminUser


class AdminUserRepo(WorkspaceRepository[AdminUser]):
    model = AdminUser

    def by_email(self, email: str) -> AdminUser | None:
        return self.one_or_none(self.base_statement().where(func.lower(AdminUser.email) == email.lower()))

    def list_all(self) -> Sequence[AdminUser]:
        return self.all(self.base_statement().order_by(AdminUser.email))


class AdminSessionRepo(Repository[AdminSession]):
    """Sessions are found by their token before the workspace is known, so this is not workspace-scoped."""

    model = AdminSession

    def by_token_hash(self, token_hash: str) -> AdminSession | None:
        return self.one_or_none(select(AdminSession).where(AdminSession.token_hash == token_hash))

    def delete_for_user(self, user_id: uuid.UUID) -> None:
        self.session.execute(delete(AdminSession).where(AdminSession.user_id == user_id))

    def delete_expired(self, now: datetime) -> None:
        self.session.execute(delete(AdminSession).where(AdminSession.expires_at < now))
