"""field mappings unique per pair; schema snapshots

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 07:03:49.605334+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "schema_snapshots",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("system", sa.String(length=20), nullable=False),
        sa.Column("object_type", sa.String(length=20), nullable=False),
        sa.Column(
            "fields",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_schema_snapshots_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schema_snapshots")),
        sa.UniqueConstraint(
            "workspace_id",
            "system",
            "object_type",
            name=op.f("uq_schema_snapshots_workspace_id_system_object_type"),
        ),
    )
    op.create_index(op.f("ix_schema_snapshots_workspace_id"), "schema_snapshots", ["workspace_id"], unique=False)
    # batch mode: SQLite cannot alter constraints in place (it copies the table); PostgreSQL alters directly
    with op.batch_alter_table("field_mappings") as batch:
        batch.drop_constraint("uq_field_mappings_workspace_id_object_type_accelo_field", type_="unique")
        batch.drop_constraint("uq_field_mappings_workspace_id_object_type_hubspot_property", type_="unique")
        batch.create_unique_constraint(
            "uq_field_mappings_pair", ["workspace_id", "object_type", "hubspot_property", "accelo_field"]
        )


def downgrade() -> None:
    with op.batch_alter_table("field_mappings") as batch:
        batch.drop_constraint("uq_field_mappings_pair", type_="unique")
        batch.create_unique_constraint(
            "uq_field_mappings_workspace_id_object_type_hubspot_property",
            ["workspace_id", "object_type", "hubspot_property"],
        )
        batch.create_unique_constraint(
            "uq_field_mappings_workspace_id_object_type_accelo_field",
            ["workspace_id", "object_type", "accelo_field"],
        )
    op.drop_index(op.f("ix_schema_snapshots_workspace_id"), table_name="schema_snapshots")
    op.drop_table("schema_snapshots")
