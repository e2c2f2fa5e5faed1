"""accord links and settings

Accord -> HubSpot deal pushes: which deal each Accord is pushed to (one Accord per deal), the newest data
received and the value last pushed to each deal property; per workspace, the properties' internal names.
New tables only, so nothing else changes.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 07:16:58.097359+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "accord_links",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("accord_id", sa.String(length=60), nullable=False),
        sa.Column("deal_id", sa.String(length=40), nullable=True),
        sa.Column("requested_deal_id", sa.String(length=40), nullable=True),
        sa.Column("linked_by", sa.String(length=10), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("flag_reason", sa.String(length=30), nullable=True),
        sa.Column("flag_detail", sa.Text(), nullable=True),
        sa.Column("flagged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "snapshot", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("snapshot_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("snapshot_trigger", sa.String(length=40), nullable=True),
        sa.Column(
            "pushed", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("last_pushed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_accord_links_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accord_links")),
        sa.UniqueConstraint("workspace_id", "accord_id", name=op.f("uq_accord_links_workspace_id_accord_id")),
        sa.UniqueConstraint("workspace_id", "deal_id", name=op.f("uq_accord_links_workspace_id_deal_id")),
    )
    op.create_index("ix_accord_links_workspace_flagged", "accord_links", ["workspace_id", "flagged"], unique=False)
    op.create_table(
        "accord_settings",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column(
            "property_names",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("provisioned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "provision_report",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_accord_settings_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_accord_settings")),
    )


def downgrade() -> None:
    op.drop_table("accord_settings")
    op.drop_index("ix_accord_links_workspace_flagged", table_name="accord_links")
    op.drop_table("accord_links")
