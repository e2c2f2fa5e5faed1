"""Bulk jobs as the REST API, the CLI and the admin UI use them: start, list, read, cancel, resume, and the
figures ops watch (``describe``).

Every function takes the caller's session and only flushes; the caller's transaction commits, and the job's
first slice is enqueued when it does. One job runs per workspace at a time: two jobs creating in the same
system at once could each miss the other's new records.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from interlink.config import Settings
from interlink.connections.repository import ConnectionRepo
from interlink.errors import Conflict, NotFound, ValidationFailed
from interlink.jobs.repository import ACTIVE, JobRepo, MatchIndex
from interlink.jobs.runner import RUN_TASK, directions
from interlink.jobs.schemas import (
    OBJECT_TYPES,
    PLURAL,
    JobCounts,
    JobCreate,
    JobProgress,
    JobRead,
    JobSample,
    JobSummary,
    Stage,
)
from interlink.kit.time import ensure_utc, utc_now
from interlink.mappings.fields import ObjectType
from interlink.mappings.rules import RuleProblem, validate_rule
from interlink.mappings.schema_source import SchemaSource, get_schema, schema_by_name
from interlink.models import Workspace
from interlink.models.job import Job
from interlink.worker.enqueue import enqueue_job

FINISHED = ("completed", "failed", "cancelled")


def start_job(session: Session, workspace: Workspace, body: JobCreate, source: SchemaSource, settings: Settings) -> Job:
    """Queue a job (202 at the API): refused while another job of the workspace is active, without both
    connections, or with a filter that does not fit the source system's fields."""
    running = JobRepo(session, workspace.id).active()
    if running is not None:
        raise Conflict(
            f"job {running.id} is {running.status}; a workspace runs one job at a time",
            details={"job_id": str(running.id), "fix": "wait for it, or cancel it (POST /api/v1/jobs/{id}/cancel)"},
        )
    connections = ConnectionRepo(session, workspace.id)
    systems = (("HubSpot", "hubspot"), ("Accelo", "accelo"))
    missing = [name for name, system in systems if connections.get_by_system(system) is None]
    if missing:
        raise ValidationFailed(
            f"connect {' and '.join(missing)} before running a {body.kind}",
            details={"fix": "PUT /api/v1/connections/{hubspot,accelo}"},
        )
    object_types = OBJECT_TYPES[body.object_type]
    source_system, _target = directions(body.kind)
    conditions: dict[str, Any] = {}
    for object_type in object_types:
        condition = getattr(body.filter, PLURAL[object_type]) if body.filter is not None else None
        if condition is None:
            continue
        schema = schema_by_name(get_schema(session, workspace.id, source_system, ObjectType(object_type), source))
        try:
            validate_rule(condition, schema, path=f"filter.{PLURAL[object_type]}")
        except RuleProblem as problem:
            raise ValidationFailed(
                f"this filter cannot be used: {problem} — fix: {problem.fix}",
                details=[{"field": problem.path, "message": problem.message, "fix": problem.fix}],
            ) from None
        conditions[object_type] = condition.model_dump(mode="json", by_alias=True, exclude_none=True)
    now = utc_now()
    job = Job(
        workspace_id=workspace.id,
        kind=body.kind,
        object_types=object_types,
        filter=conditions or None,
        dry_run=body.dry_run,
        share=body.share if body.share is not None else settings.job_share,
        status="queued",
        checkpoint={},
        counts={},
        samples={},
        created_at=now,
        # Due at once: whichever comes first, the message sent on commit or the sweeper (which is how a job
        # started where no message can be sent, the CLI without a broker, reaches the server's worker).
        lease_expires_at=now,
    )
    JobRepo(session, workspace.id).add(job)
    enqueue_job(session, RUN_TASK, job_id=str(job.id))
    return job


def list_jobs(
    session: Session,
    workspace_id: uuid.UUID,
    *,
    status: str | None = None,
    before: tuple[datetime, uuid.UUID] | None = None,
    limit: int = 50,
) -> Sequence[Job]:
    """The workspace's jobs, newest first."""
    repository = JobRepo(session, workspace_id)
    return repository.all(repository.list_statement(status=status, before=before, limit=limit))


def get_job(session: Session, workspace_id: uuid.UUID, job_id: uuid.UUID) -> Job:
    job = JobRepo(session, workspace_id).get(job_id)
    if job is None:
        raise NotFound(f"job {job_id} not found")
    return job


def cancel_job(session: Session, workspace_id: uuid.UUID, job_id: uuid.UUID) -> Job:
    """Stop a job after the batch it is on (what is done stays done). A job no worker holds stops at once."""
    job = get_job(session, workspace_id, job_id)
    if job.status in FINISHED:
        raise Conflict(f"job {job_id} has {'been ' if job.status == 'cancelled' else ''}{job.status} already")
    job.cancel_requested = True
    if job.claim_token is None:
        now = utc_now()
        job.status, job.finished_at, job.lease_expires_at = "cancelled", now, None
        MatchIndex.clear(session, job.id)
    session.flush()
    return job


def resume_job(session: Session, workspace_id: uuid.UUID, job_id: uuid.UUID, settings: Settings) -> Job:
    """Carry on with a failed or cancelled job from its checkpoint (after fixing a connection, say). Its match
    index is built again, since the target may have changed meanwhile, and its first batch matches by live
    search. A dry run starts over: its predictions cannot be told apart from what changed since."""
    job = get_job(session, workspace_id, job_id)
    if job.status not in {"failed", "cancelled"}:
        raise Conflict(f"job {job_id} is {job.status}; only failed or cancelled jobs can be resumed")
    running = JobRepo(session, workspace_id).active()
    if running is not None:
        raise Conflict(f"job {running.id} is {running.status}; a workspace runs one job at a time")
    checkpoint = copy.deepcopy(job.checkpoint or {})
    position = checkpoint.get("position")
    if job.dry_run:  # its predictions went with its index: a dry run starts over
        checkpoint, position = {}, None
        job.counts, job.samples = {}, {}
    if position is not None:
        checkpoint["recover"] = position.get("stage") == "sync" or bool(checkpoint.get("recover"))
        checkpoint["position"] = {"object_type": position["object_type"], "stage": "index"}
        checkpoint["index_cursor"] = None
    checkpoint["failures"] = 0
    checkpoint.pop("not_before", None)
    now = utc_now()
    job.checkpoint = checkpoint
    job.status, job.cancel_requested, job.error, job.finished_at = "queued", False, None, None
    job.lease_expires_at = now + timedelta(seconds=settings.job_lease_seconds)
    session.flush()
    enqueue_job(session, RUN_TASK, job_id=str(job.id))
    return job


# -- what ops see ------------------------------------------------------------------------------------------


def counts_of(tally: dict[str, Any]) -> JobCounts:
    values = {name: int(tally.get(name, 0)) for name in JobCounts.model_fields if name not in {"after_match"}}
    values["matched_existing"] = int(tally.get("linked", 0))
    values["linked"] = values["created"] + values["matched_existing"] + values["updated"] + values["unchanged"]
    return JobCounts(**values, after_match=dict(tally.get("after_match") or {}))


def _add(total: JobCounts, part: JobCounts) -> JobCounts:
    values: dict[str, Any] = {
        name: getattr(total, name) + getattr(part, name) for name in JobCounts.model_fields if name != "after_match"
    }
    after = dict(total.after_match)
    for outcome, count in part.after_match.items():
        after[outcome] = after.get(outcome, 0) + count
    return JobCounts(**values, after_match=after)


def progress_of(job: Job, totals: JobCounts, now: datetime | None = None) -> JobProgress:
    """Where a job is, how fast it goes (records scanned per second over the last minute or so) and when it
    should be done at that rate."""
    now = now or utc_now()
    checkpoint = job.checkpoint or {}
    estimates = [value for value in (checkpoint.get("totals") or {}).values() if isinstance(value, int)]
    total = sum(estimates) if estimates and len(estimates) == len(job.object_types) else None
    position = checkpoint.get("position")
    stage: Stage
    if job.status in FINISHED:
        stage, object_type = "finished", None
    elif job.status == "queued" or not checkpoint:
        stage, object_type = "queued", None
    elif position is None:  # finishing the last batch's follow-up
        stage, object_type = "syncing", None
    else:
        stage = "indexing" if position.get("stage") == "index" else "syncing"
        object_type = PLURAL.get(position.get("object_type", ""), None)
    rate = _rate(job, totals, now)
    percent = None
    if job.status == "completed":
        percent = 100.0
    elif total:
        percent = round(min(100.0, 100.0 * totals.scanned / total), 1)
    eta = None
    if job.status in ACTIVE and rate and total is not None:
        eta = round(max(0.0, total - totals.scanned) / rate, 1)
    return JobProgress(
        stage=stage,
        object_type=object_type,
        total_estimate=total,
        percent=percent,
        rate_per_second=round(rate, 2) if rate is not None else None,
        eta_seconds=eta,
    )


def _rate(job: Job, totals: JobCounts, now: datetime) -> float | None:
    if job.status in FINISHED:
        if job.started_at is None or job.finished_at is None:
            return None
        seconds = (ensure_utc(job.finished_at) - ensure_utc(job.started_at)).total_seconds()
        return totals.scanned / seconds if seconds > 0 else None
    samples = [sample for sample in (job.checkpoint or {}).get("rate") or [] if len(sample) == 2]
    if len(samples) < 2:
        return None
    (first_at, first_count), (last_at, last_count) = samples[0], samples[-1]
    seconds = float(max(last_at, now.timestamp()) - first_at if job.status == "running" else last_at - first_at)
    if seconds <= 0:
        return None
    return float(last_count - first_count) / seconds


def describe(job: Job, *, now: datetime | None = None) -> JobRead:
    """Everything ops see of a job: its counts per object type and in total, progress, rate, ETA, samples."""
    by_type = {PLURAL[t]: counts_of((job.counts or {}).get(t) or {}) for t in job.object_types}
    totals = JobCounts()
    for part in by_type.values():
        totals = _add(totals, part)
    samples = {
        PLURAL.get(object_type, object_type): {
            outcome: [JobSample.model_validate(sample) for sample in found]
            for outcome, found in outcomes.items()
            if isinstance(found, list)
        }
        for object_type, outcomes in (job.samples or {}).items()
        if isinstance(outcomes, dict)
    }
    for outcomes in samples.values():
        if "linked" in outcomes:
            outcomes["matched_existing"] = outcomes.pop("linked")
    filters = {PLURAL[t]: condition for t, condition in (job.filter or {}).items()} if job.filter else None
    return JobRead(
        **_summary_fields(job, totals, now),
        filter=filters,
        by_object_type=by_type,
        samples=samples,
    )


def summarise(job: Job, *, now: datetime | None = None) -> JobSummary:
    """A job as the history lists it: without samples."""
    totals = JobCounts()
    for object_type in job.object_types:
        totals = _add(totals, counts_of((job.counts or {}).get(object_type) or {}))
    return JobSummary(**_summary_fields(job, totals, now))


def _summary_fields(job: Job, totals: JobCounts, now: datetime | None) -> dict[str, Any]:
    return {
        "id": job.id,
        "kind": job.kind,
        "object_types": [PLURAL[t] for t in job.object_types],
        "dry_run": job.dry_run,
        "status": job.status,
        "cancel_requested": job.cancel_requested,
        "share": job.share,
        "error": job.error,
        "restarts": job.restarts,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "heartbeat_at": job.heartbeat_at,
        "progress": progress_of(job, totals, now),
        "totals": totals,
    }
