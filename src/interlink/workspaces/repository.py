from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import or_, select

from interlink.kit.repository import Repository, WorkspaceRepository
from interlink.models import ApiToken, Workspace


class WorkspaceRepo(Repository[Workspace]):
    model = Workspace

    def get_by_slug(self, slug: str) -> Workspace | None:
        return self.one_or_none(select(Workspace).where(Workspace.slug == slug))

    def find(self, slug_or_id: str) -> Workspace | None:
        """Look a workspace up by slug or by id (CLI arguments accept both)."""
        try:
            as_id = uuid.UUID(slug_or_id)
        except ValueError:
            return self.get_by_slug(slug_or_id)
        return self.one_or_none(select(Workspace).where(or_(Workspace.id == as_id, Workspace.slug == slug_or_id)))

    def list_all(self) -> Sequence[Workspace]:
        return self.all(select(Workspace).order_by(Workspace.created_at))


class ApiTokenRepo(WorkspaceRepository[ApiToken]):
    model = ApiToken

    def list_active(self) -> Sequence[ApiToken]:
        return self.all(self.base_statement().where(ApiToken.revoked_at.is_(None)).order_by(ApiToken.created_at))


class TokenLookup(Repository[ApiToken]):
    """Authentication happens before a workspace is known, so this one lookup is not workspace-scoped."""

    model = ApiToken

    def active_by_hash(self, token_hash: str) -> ApiToken | None:
        return self.one_or_none(
            select(ApiToken).where(ApiToken.token_hash == token_hash, ApiToken.revoked_at.is_(None))
        )
