from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from interlink.kit.repository import WorkspaceRepository
from interlink.models import FieldMapping, SchemaSnapshot, StatusMapping, SyncRule


class FieldMappingRepo(WorkspaceRepository[FieldMapping]):
    model = FieldMapping

    def for_type(self, object_type: str | None = None, *, enabled_only: bool = False) -> Sequence[FieldMapping]:
        statement = self.base_statement()
        if object_type:
            statement = statement.where(FieldMapping.object_type == object_type)
        if enabled_only:
            statement = statement.where(FieldMapping.enabled.is_(True))
        return self.all(
            statement.order_by(FieldMapping.object_type, FieldMapping.builtin.desc(), FieldMapping.created_at)
        )


class StatusMappingRepo(WorkspaceRepository[StatusMapping]):
    model = StatusMapping

    def for_type(self, object_type: str | None = None) -> Sequence[StatusMapping]:
        statement = self.base_statement()
        if object_type:
            statement = statement.where(StatusMapping.object_type == object_type)
        return self.all(
            statement.order_by(StatusMapping.object_type, StatusMapping.direction, StatusMapping.source_value)
        )

    def find(self, object_type: str, direction: str, source_value: str) -> StatusMapping | None:
        return self.one_or_none(
            self.base_statement().where(
                StatusMapping.object_type == object_type,
                StatusMapping.direction == direction,
                StatusMapping.source_value == source_value,
            )
        )


class SyncRuleRepo(WorkspaceRepository[SyncRule]):
    model = SyncRule

    def list_all(self) -> Sequence[SyncRule]:
        return self.all(self.base_statement().order_by(SyncRule.object_type, SyncRule.direction))

    def find(self, object_type: str, direction: str) -> SyncRule | None:
        return self.one_or_none(
            self.base_statement().where(SyncRule.object_type == object_type, SyncRule.direction == direction)
        )


class SchemaSnapshotRepo(WorkspaceRepository[SchemaSnapshot]):
    model = SchemaSnapshot

    def find(self, system: str, object_type: str) -> SchemaSnapshot | None:
        return self.one_or_none(
            self.base_statement().where(SchemaSnapshot.system == system, SchemaSnapshot.object_type == object_type)
        )

    def forget(self, system: str) -> None:
        """Drop the system's cached schemas (the workspace now talks to another account of it)."""
        for snapshot in self.all(self.base_statement().where(SchemaSnapshot.system == system)):
            self.session.delete(snapshot)
        self.session.flush()

    def fetched_before(self, moment: datetime) -> Sequence[SchemaSnapshot]:
        return self.all(self.base_statement().where(SchemaSnapshot.fetched_at < moment))


def workspaces_with_schemas_fetched_before(session: Session, moment: datetime) -> list[uuid.UUID]:
    """Every workspace holding a cached schema older than ``moment`` (for the periodic refresh)."""
    statement = select(SchemaSnapshot.workspace_id).where(SchemaSnapshot.fetched_at < moment).distinct()
    return list(session.scalars(statement))
