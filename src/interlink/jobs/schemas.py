from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from interlink.mappings.rules import Condition

JobKind = Literal["pull", "push"]
ObjectTypeChoice = Literal["companies", "contacts", "both"]
JobStatus = Literal["queued", "running", "completed", "failed", "cancelled"]
Stage = Literal["queued", "indexing", "syncing", "finished"]

OBJECT_TYPES: dict[str, list[str]] = {"companies": ["company"], "contacts": ["contact"], "both": ["company", "contact"]}
PLURAL = {"company": "companies", "contact": "contacts"}


class JobFilter(BaseModel):
    """Only source records matching these conditions (the sync-rule language: ``all``/``any`` groups of
    ``{field, op, value}`` on the source system's fields) are synced; the others are counted as filtered out."""

    model_config = ConfigDict(extra="forbid")

    companies: Condition | None = None
    contacts: Condition | None = None


class JobCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: JobKind = Field(description="pull: HubSpot -> Accelo; push: Accelo -> HubSpot")
    object_type: ObjectTypeChoice = Field(default="both", description="both: companies first, then contacts")
    filter: JobFilter | None = None
    dry_run: bool = Field(default=False, description="Plan everything, write nothing; counts and samples say what")
    share: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="Part of each vendor rate window the job may spend (default INTERLINK_JOB_SHARE); the rest "
        "is left for live syncing",
    )


class JobCounts(BaseModel):
    """What became of the records a job read. Each record scanned is counted once, under one outcome
    (``filtered_out``, ``created``, ``matched_existing``, ``updated``, ``unchanged``, ``skipped_by_rule``,
    ``skipped_no_key``, ``needs_review``, ``waiting`` or ``failed``); ``linked`` adds up those that end the job
    with a twin."""

    scanned: int = 0
    linked: int = Field(default=0, description="created + matched_existing + updated + unchanged")
    matched_existing: int = Field(default=0, description="paired with a twin found by email, domain or name")
    created: int = 0
    updated: int = Field(default=0, description="already linked; changes written")
    unchanged: int = Field(default=0, description="already linked; nothing to write")
    skipped_by_rule: int = Field(default=0, description="unlinked, and the sync rule does not create it")
    skipped_no_key: int = Field(default=0, description="unlinked, with no email/website/name to match on")
    needs_review: int = 0
    waiting: int = Field(default=0, description="contacts waiting for their company")
    failed: int = 0
    filtered_out: int = 0
    indexed: int = Field(default=0, description="target records read into the job's match index")
    after_match: dict[str, int] = Field(
        default_factory=dict, description="what the first reconcile of the records matched to a twin did"
    )


class JobSample(BaseModel):
    system: str
    record_id: str
    label: str | None = Field(description="an email, or a company's name")
    reason: str | None = Field(description="why: the rule, the match, the error")


class JobProgress(BaseModel):
    stage: Stage
    object_type: str | None = Field(description="what the job is on now (companies, contacts)")
    total_estimate: int | None = Field(description="source records counted when the job started")
    percent: float | None
    rate_per_second: float | None = Field(description="records scanned per second, over the last minute or so")
    eta_seconds: float | None


class JobSummary(BaseModel):
    id: uuid.UUID
    kind: JobKind
    object_types: list[str]
    dry_run: bool
    status: JobStatus
    cancel_requested: bool
    share: float
    error: str | None
    restarts: int = Field(description="times a worker took over after the previous one died")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None
    progress: JobProgress
    totals: JobCounts


class JobRead(JobSummary):
    filter: dict[str, Any] | None
    by_object_type: dict[str, JobCounts]
    samples: dict[str, dict[str, list[JobSample]]] = Field(
        description="per object type and outcome, the first few records with the reason"
    )
