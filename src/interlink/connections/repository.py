from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from interlink.kit.repository import Repository, WorkspaceRepository
from interlink.models import Connection


class ConnectionRepo(WorkspaceRepository[Connection]):
    model = Connection

    def get_by_system(self, system: str) -> Connection | None:
        return self.one_or_none(self.base_statement().where(Connection.system == system))

    def list_all(self) -> Sequence[Connection]:
        return self.all(self.base_statement().order_by(Connection.system))


class AccountLookup(Repository[Connection]):
    """Cross-workspace: which connection owns a vendor account (webhooks name accounts, not workspaces)."""

    model = Connection

    def by_account(self, system: str, external_account_id: str) -> Connection | None:
        return self.one_or_none(
            select(Connection).where(Connection.system == system, Connection.external_account_id == external_account_id)
        )
