"""inbox pending key

``inbound_events.pending_key``: the record a hint-only event is about, unique among pending events of a
workspace and source (a partial unique index), so an identical hint that arrives while one is still waiting is
dropped at insert time, without a race between two deliveries. Accelo sends no delivery id, so this is what
makes its redeliveries (and bursts of edits) collapse. Claiming an event clears its key. Existing rows get no
key, which only means they do not block new hints.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 03:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("inbound_events", sa.Column("pending_key", sa.String(length=100), nullable=True))
    op.create_index(
        "uq_inbound_events_pending_key",
        "inbound_events",
        ["workspace_id", "source", "pending_key"],
        unique=True,
        postgresql_where=sa.text("status = 'pending'"),
        sqlite_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index(
        "uq_inbound_events_pending_key",
        table_name="inbound_events",
        postgresql_where=sa.text("status = 'pending'"),
        sqlite_where=sa.text("status = 'pending'"),
    )
    with op.batch_alter_table("inbound_events") as batch:
        batch.drop_column("pending_key")
