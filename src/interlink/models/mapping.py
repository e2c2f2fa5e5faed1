from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from interlink.kit.model import Model, TimestampMixin, UUIDKeyMixin
from interlink.kit.time import utc_now


class FieldMapping(UUIDKeyMixin, TimestampMixin, Model):
    """``hubspot_property <-> accelo_field`` for one object type.

    ``accelo_field`` is a stable key: a built-in field name (``firstname``, ``affiliation.email``),
    ``profile:<field_id>`` or ``segmentation:<id>``.
    """

    __tablename__ = "field_mappings"
    # A property may feed several fields one way; what must never happen (one target written by two
    # mappings) depends on direction and is checked when a mapping is saved.
    __table_args__ = (
        UniqueConstraint(
            "workspace_id", "object_type", "hubspot_property", "accelo_field", name="uq_field_mappings_pair"
        ),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    object_type: Mapped[str] = mapped_column(String(20))
    hubspot_property: Mapped[str] = mapped_column(String(200))
    accelo_field: Mapped[str] = mapped_column(String(200))
    direction: Mapped[str] = mapped_column(String(20), default="both")
    conflict_policy: Mapped[str] = mapped_column(String(20), default="latest")
    value_map: Mapped[dict[str, Any] | None]
    builtin: Mapped[bool] = mapped_column(default=False)
    enabled: Mapped[bool] = mapped_column(default=True)

    @property
    def key(self) -> str:
        """The name of this mapping's entry in a link's snapshot; stable if the mapping is re-created."""
        return f"{self.hubspot_property}|{self.accelo_field}"


class StatusMapping(UUIDKeyMixin, TimestampMixin, Model):
    """One arrow of a many-to-one status map: ``h2a`` (HubSpot value -> Accelo status) or ``a2h``."""

    __tablename__ = "status_mappings"
    __table_args__ = (UniqueConstraint("workspace_id", "object_type", "direction", "source_value"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    object_type: Mapped[str] = mapped_column(String(20))
    direction: Mapped[str] = mapped_column(String(3))
    source_value: Mapped[str] = mapped_column(String(200))
    target_value: Mapped[str] = mapped_column(String(200))


class SyncRule(UUIDKeyMixin, TimestampMixin, Model):
    """Whether an unlinked record is created in the other system: a condition tree per type and direction."""

    __tablename__ = "sync_rules"
    __table_args__ = (UniqueConstraint("workspace_id", "object_type", "direction"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    object_type: Mapped[str] = mapped_column(String(20))
    direction: Mapped[str] = mapped_column(String(4))
    condition: Mapped[dict[str, Any]]
    enabled: Mapped[bool] = mapped_column(default=True)


class SchemaSnapshot(UUIDKeyMixin, Model):
    """A cached copy of one system's field list for one object type, so validation does not hammer vendors."""

    __tablename__ = "schema_snapshots"
    __table_args__ = (UniqueConstraint("workspace_id", "system", "object_type"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    system: Mapped[str] = mapped_column(String(20))
    object_type: Mapped[str] = mapped_column(String(20))
    fields: Mapped[list[Any]]
    fetched_at: Mapped[datetime] = mapped_column(default=utc_now)
