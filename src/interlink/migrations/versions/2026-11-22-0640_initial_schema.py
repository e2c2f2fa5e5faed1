"""initial schema: workspaces, tokens, connections, mappings, rules, links, inbox, ledger, jobs

Revision ID: 0001
Revises:
Create Date: 2026-11-22 06:40:23.836900+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "workspaces",
        sa.Column("slug", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "options",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspaces")),
        sa.UniqueConstraint("slug", name=op.f("uq_workspaces_slug")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_api_tokens_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index(op.f("ix_api_tokens_workspace_id"), "api_tokens", ["workspace_id"], unique=False)
    op.create_table(
        "connections",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("system", sa.String(length=20), nullable=False),
        sa.Column("external_account_id", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("status_detail", sa.Text(), nullable=True),
        sa.Column(
            "settings",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("credentials_ciphertext", sa.Text(), nullable=False),
        sa.Column("last_checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_connections_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connections")),
        sa.UniqueConstraint("system", "external_account_id", name=op.f("uq_connections_system_external_account_id")),
        sa.UniqueConstraint("workspace_id", "system", name=op.f("uq_connections_workspace_id_system")),
    )
    op.create_index(op.f("ix_connections_workspace_id"), "connections", ["workspace_id"], unique=False)
    op.create_table(
        "field_mappings",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("object_type", sa.String(length=20), nullable=False),
        sa.Column("hubspot_property", sa.String(length=200), nullable=False),
        sa.Column("accelo_field", sa.String(length=200), nullable=False),
        sa.Column("direction", sa.String(length=20), nullable=False),
        sa.Column("conflict_policy", sa.String(length=20), nullable=False),
        sa.Column(
            "value_map",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("builtin", sa.Boolean(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_field_mappings_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_field_mappings")),
        sa.UniqueConstraint(
            "workspace_id",
            "object_type",
            "accelo_field",
            name=op.f("uq_field_mappings_workspace_id_object_type_accelo_field"),
        ),
        sa.UniqueConstraint(
            "workspace_id",
            "object_type",
            "hubspot_property",
            name=op.f("uq_field_mappings_workspace_id_object_type_hubspot_property"),
        ),
    )
    op.create_index(op.f("ix_field_mappings_workspace_id"), "field_mappings", ["workspace_id"], unique=False)
    op.create_table(
        "inbound_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=80), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("object_type", sa.String(length=20), nullable=True),
        sa.Column("object_id", sa.String(length=60), nullable=True),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claim_token", sa.Uuid(), nullable=True),
        sa.Column("claimed_by", sa.String(length=120), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_inbound_events_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_events")),
        sa.UniqueConstraint(
            "workspace_id",
            "source",
            "dedupe_key",
            name=op.f("uq_inbound_events_workspace_id_source_dedupe_key"),
        ),
    )
    op.create_index(
        "ix_inbound_events_due",
        "inbound_events",
        ["workspace_id", "next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("status = 'pending'"),
        sqlite_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "ix_inbound_events_record",
        "inbound_events",
        ["workspace_id", "source", "object_type", "object_id"],
        unique=False,
    )
    op.create_index("ix_inbound_events_status", "inbound_events", ["status", "lease_expires_at"], unique=False)
    op.create_table(
        "jobs",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column(
            "object_types",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "filter",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column(
            "checkpoint",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "counts",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "samples",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("claim_token", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_jobs_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    op.create_index("ix_jobs_workspace_created", "jobs", ["workspace_id", "created_at"], unique=False)
    op.create_table(
        "links",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("object_type", sa.String(length=20), nullable=False),
        sa.Column("hubspot_id", sa.String(length=40), nullable=True),
        sa.Column("accelo_id", sa.String(length=40), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("state_reason", sa.Text(), nullable=True),
        sa.Column("matched_by", sa.String(length=30), nullable=True),
        sa.Column(
            "snapshot",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "field_states",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("hubspot_id IS NOT NULL OR accelo_id IS NOT NULL", name=op.f("ck_links_one_side_set")),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_links_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_links")),
    )
    op.create_index("ix_links_workspace_state", "links", ["workspace_id", "state"], unique=False)
    op.create_index(
        "uq_links_accelo_open",
        "links",
        ["workspace_id", "object_type", "accelo_id"],
        unique=True,
        postgresql_where=sa.text("state <> 'closed'"),
        sqlite_where=sa.text("state <> 'closed'"),
    )
    op.create_index(
        "uq_links_hubspot_open",
        "links",
        ["workspace_id", "object_type", "hubspot_id"],
        unique=True,
        postgresql_where=sa.text("state <> 'closed'"),
        sqlite_where=sa.text("state <> 'closed'"),
    )
    op.create_table(
        "status_mappings",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("object_type", sa.String(length=20), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("source_value", sa.String(length=200), nullable=False),
        sa.Column("target_value", sa.String(length=200), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_status_mappings_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_mappings")),
        sa.UniqueConstraint(
            "workspace_id",
            "object_type",
            "direction",
            "source_value",
            name=op.f("uq_status_mappings_workspace_id_object_type_direction_source_value"),
        ),
    )
    op.create_index(op.f("ix_status_mappings_workspace_id"), "status_mappings", ["workspace_id"], unique=False)
    op.create_table(
        "sync_rules",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("object_type", sa.String(length=20), nullable=False),
        sa.Column("direction", sa.String(length=4), nullable=False),
        sa.Column(
            "condition",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_sync_rules_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_rules")),
        sa.UniqueConstraint(
            "workspace_id",
            "object_type",
            "direction",
            name=op.f("uq_sync_rules_workspace_id_object_type_direction"),
        ),
    )
    op.create_index(op.f("ix_sync_rules_workspace_id"), "sync_rules", ["workspace_id"], unique=False)
    op.create_table(
        "sync_ledger",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("link_id", sa.Uuid(), nullable=True),
        sa.Column("object_type", sa.String(length=20), nullable=True),
        sa.Column("hubspot_id", sa.String(length=40), nullable=True),
        sa.Column("accelo_id", sa.String(length=40), nullable=True),
        sa.Column("field", sa.String(length=200), nullable=True),
        sa.Column("direction", sa.String(length=20), nullable=True),
        sa.Column(
            "old_value",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "new_value",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column(
            "details",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "event_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("job_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_sync_ledger_job_id_jobs"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(
            ["link_id"], ["links.id"], name=op.f("fk_sync_ledger_link_id_links"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_sync_ledger_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_ledger")),
    )
    op.create_index(op.f("ix_sync_ledger_job_id"), "sync_ledger", ["job_id"], unique=False)
    op.create_index("ix_sync_ledger_link", "sync_ledger", ["workspace_id", "link_id", "id"], unique=False)
    op.create_index("ix_sync_ledger_workspace", "sync_ledger", ["workspace_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_sync_ledger_workspace", table_name="sync_ledger")
    op.drop_index("ix_sync_ledger_link", table_name="sync_ledger")
    op.drop_index(op.f("ix_sync_ledger_job_id"), table_name="sync_ledger")
    op.drop_table("sync_ledger")
    op.drop_index(op.f("ix_sync_rules_workspace_id"), table_name="sync_rules")
    op.drop_table("sync_rules")
    op.drop_index(op.f("ix_status_mappings_workspace_id"), table_name="status_mappings")
    op.drop_table("status_mappings")
    op.drop_index(
        "uq_links_hubspot_open",
        table_name="links",
        postgresql_where=sa.text("state <> 'closed'"),
        sqlite_where=sa.text("state <> 'closed'"),
    )
    op.drop_index(
        "uq_links_accelo_open",
        table_name="links",
        postgresql_where=sa.text("state <> 'closed'"),
        sqlite_where=sa.text("state <> 'closed'"),
    )
    op.drop_index("ix_links_workspace_state", table_name="links")
    op.drop_table("links")
    op.drop_index("ix_jobs_workspace_created", table_name="jobs")
    op.drop_table("jobs")
    op.drop_index("ix_inbound_events_status", table_name="inbound_events")
    op.drop_index("ix_inbound_events_record", table_name="inbound_events")
    op.drop_index(
        "ix_inbound_events_due",
        table_name="inbound_events",
        postgresql_where=sa.text("status = 'pending'"),
        sqlite_where=sa.text("status = 'pending'"),
    )
    op.drop_table("inbound_events")
    op.drop_index(op.f("ix_field_mappings_workspace_id"), table_name="field_mappings")
    op.drop_table("field_mappings")
    op.drop_index(op.f("ix_connections_workspace_id"), table_name="connections")
    op.drop_table("connections")
    op.drop_index(op.f("ix_api_tokens_workspace_id"), table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_table("workspaces")
