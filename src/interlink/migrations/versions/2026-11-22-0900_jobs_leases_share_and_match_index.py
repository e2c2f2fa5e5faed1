"""jobs: leases, rate share, restarts; the bulk jobs' match index

Bulk pull/push jobs hold a lease renewed by a heartbeat (a job whose worker died is resumed by the sweeper
once ``lease_expires_at`` has passed), spend only ``share`` of each vendor rate window, and count their
``restarts``. ``job_match_keys`` is a running job's index of the target system's records by match key.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 09:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("share", sa.Float(), nullable=False, server_default=sa.text("0.7")))
        batch.add_column(sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("restarts", sa.Integer(), nullable=False, server_default=sa.text("0")))
        batch.create_index("ix_jobs_status_lease", ["status", "lease_expires_at"], unique=False)
    op.create_table(
        "job_match_keys",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("object_type", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.String(length=60), nullable=False),
        sa.Column("source_id", sa.String(length=60), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_job_match_keys_job_id_jobs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_match_keys")),
    )
    op.create_index("ix_job_match_keys_lookup", "job_match_keys", ["job_id", "object_type", "key"], unique=False)
    op.create_index("ix_job_match_keys_record", "job_match_keys", ["job_id", "object_type", "record_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_job_match_keys_record", table_name="job_match_keys")
    op.drop_index("ix_job_match_keys_lookup", table_name="job_match_keys")
    op.drop_table("job_match_keys")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index("ix_jobs_status_lease")
        batch.drop_column("restarts")
        batch.drop_column("lease_expires_at")
        batch.drop_column("share")
