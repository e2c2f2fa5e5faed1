"""links flagged and last written side; sync cursors

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 07:09:36.227826+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sync_cursors",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_sync_cursors_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_cursors")),
        sa.UniqueConstraint("workspace_id", "name", name=op.f("uq_sync_cursors_workspace_id_name")),
    )
    op.create_index(op.f("ix_sync_cursors_workspace_id"), "sync_cursors", ["workspace_id"], unique=False)
    with op.batch_alter_table("links") as batch:
        # existing links are not flagged; the default fills them in
        batch.add_column(sa.Column("flagged", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("last_written_side", sa.String(length=10), nullable=True))
        batch.add_column(sa.Column("last_written_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("links") as batch:
        batch.drop_column("last_written_at")
        batch.drop_column("last_written_side")
        batch.drop_column("flagged")
    op.drop_index(op.f("ix_sync_cursors_workspace_id"), table_name="sync_cursors")
    op.drop_table("sync_cursors")
