from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from interlink.kit.model import BigIntId, Model, UUIDKeyMixin
from interlink.kit.time import utc_now


class Job(UUIDKeyMixin, Model):
    """A bulk pull or push. ``checkpoint`` is written after every batch so a killed job resumes.

    A worker holds a job through ``claim_token`` while its lease (``lease_expires_at``) runs; a heartbeat
    renews the lease while the worker lives. A job whose lease lapsed (its worker died) is resumed by the
    sweeper from its checkpoint. ``restarts`` counts those resumptions.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_workspace_created", "workspace_id", "created_at"),
        Index("ix_jobs_status_lease", "status", "lease_expires_at"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    object_types: Mapped[list[Any]]
    filter: Mapped[dict[str, Any] | None]
    dry_run: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(12), default="queued")
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    checkpoint: Mapped[dict[str, Any]] = mapped_column(default=dict)
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    samples: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    claim_token: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    # The part of each vendor rate window this job may spend; the rest is headroom for live syncing.
    share: Mapped[float] = mapped_column(Float, default=0.7)
    # Until when the claim holds (renewed by the heartbeat); for a job waiting for a worker, when the sweeper
    # should send it to one again if nobody has picked it up by then.
    lease_expires_at: Mapped[datetime | None]
    restarts: Mapped[int] = mapped_column(default=0)


class JobMatchKey(Model):
    """A bulk job's match index: the target system's records by match key, so a job looks twins up in the
    database instead of searching the vendor once per record (and holds none of it in memory).

    ``kind`` is ``email``, ``domain`` or ``name`` (``key`` is the SHA-256 of kind and normalised value), or
    ``planned``: in a dry run, the twin a source record would get (``source_id`` -> ``record_id``, which is
    a placeholder when the twin would be created), so later predictions see what the real run will have done.
    Rows live as long as the job runs.
    """

    __tablename__ = "job_match_keys"
    __table_args__ = (
        Index("ix_job_match_keys_lookup", "job_id", "object_type", "key"),
        Index("ix_job_match_keys_record", "job_id", "object_type", "record_id"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    object_type: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(10))
    key: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[str] = mapped_column(String(60))
    source_id: Mapped[str | None] = mapped_column(String(60))
