"""Bulk jobs under /api/v1/jobs: start a pull or push (or a dry run of one), follow it, cancel or resume it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from interlink.deps import SessionDep, SettingsDep, WorkspaceDep
from interlink.errors import BadRequest
from interlink.jobs import service
from interlink.jobs.schemas import JobCreate, JobRead, JobStatus, JobSummary
from interlink.kit.pagination import Page, decode_cursor, encode_cursor
from interlink.mappings.endpoints import SourceDep

router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.post(
    "",
    status_code=202,
    summary="Start a bulk pull (HubSpot -> Accelo) or push (Accelo -> HubSpot), or a dry run of one",
    responses={409: {"description": "Another job of this workspace is still active"}},
)
def start_job(
    body: JobCreate, workspace: WorkspaceDep, session: SessionDep, settings: SettingsDep, source: SourceDep
) -> JobRead:
    return service.describe(service.start_job(session, workspace, body, source, settings))


@router.get("", summary="The workspace's jobs, newest first (counts and progress; no samples)")
def list_jobs(
    workspace: WorkspaceDep,
    session: SessionDep,
    status: JobStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> Page[JobSummary]:
    before = _before(decode_cursor(cursor))
    jobs = service.list_jobs(session, workspace.id, status=status, before=before, limit=limit + 1)
    items = [service.summarise(job) for job in jobs[:limit]]
    next_cursor = encode_cursor([items[-1].created_at.isoformat(), str(items[-1].id)]) if len(jobs) > limit else None
    return Page[JobSummary](items=items, next_cursor=next_cursor)


@router.get("/{job_id}", summary="One job: counts, progress, rate and ETA, and sample records per outcome")
def get_job(job_id: uuid.UUID, workspace: WorkspaceDep, session: SessionDep) -> JobRead:
    return service.describe(service.get_job(session, workspace.id, job_id))


@router.post("/{job_id}/cancel", summary="Stop the job after its current batch (what is done stays done)")
def cancel_job(job_id: uuid.UUID, workspace: WorkspaceDep, session: SessionDep) -> JobRead:
    return service.describe(service.cancel_job(session, workspace.id, job_id))


@router.post("/{job_id}/resume", summary="Carry on with a failed or cancelled job from its checkpoint")
def resume_job(job_id: uuid.UUID, workspace: WorkspaceDep, session: SessionDep, settings: SettingsDep) -> JobRead:
    return service.describe(service.resume_job(session, workspace.id, job_id, settings))


def _before(value: object) -> tuple[datetime, uuid.UUID] | None:
    if value is None:
        return None
    try:
        if not isinstance(value, list) or len(value) != 2:
            raise ValueError("not a pair")
        return datetime.fromisoformat(str(value[0])), uuid.UUID(str(value[1]))
    except ValueError:
        raise BadRequest("the cursor is not one this API issued", details={"cursor": value}) from None
