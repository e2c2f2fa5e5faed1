"""Bulk jobs: start a pull or a push (a dry run first, by default), watch its progress bar with the counts and
the ETA, and read the outcome with sample records per outcome; then run it for real."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import ValidationError

from interlink.admin import web
from interlink.admin.pages.mappings import source_for
from interlink.deps import DatabaseDep, SessionDep, SettingsDep
from interlink.jobs import service as jobs
from interlink.jobs.schemas import JobCreate, JobRead

router = APIRouter()
guarded = APIRouter(dependencies=[Depends(web.csrf_protect)])

OUTCOMES = {
    "created": "Created in the other system",
    "matched_existing": "Paired with an existing twin",
    "updated": "Already linked: changes written",
    "unchanged": "Already linked: nothing to change",
    "skipped_by_rule": "Not created: the sync rule says no",
    "skipped_no_key": "Skipped: no email, website or name to match on",
    "needs_review": "Needs review",
    "waiting": "Waiting for their company",
    "failed": "Failed",
    "filtered_out": "Left out by the job's filter",
}
KINDS = {"pull": ("HubSpot", "Accelo"), "push": ("Accelo", "HubSpot")}


@router.get("/jobs")
def jobs_page(request: Request, session: SessionDep, principal: web.PrincipalDep) -> HTMLResponse:
    history = [jobs.summarise(job) for job in jobs.list_jobs(session, principal.workspace.id, limit=25)]
    return web.render(
        request,
        "jobs.html",
        title="Bulk jobs",
        nav="jobs",
        session=session,
        principal=principal,
        history=history,
        kinds=KINDS,
        error=None,
    )


@guarded.post("/jobs")
def start_job(
    request: Request,
    session: SessionDep,
    principal: web.PrincipalDep,
    db: DatabaseDep,
    settings: SettingsDep,
    kind: Annotated[str, Form()] = "pull",
    object_type: Annotated[str, Form()] = "both",
    dry_run: Annotated[str, Form()] = "",
    repeat_of: Annotated[str, Form()] = "",
) -> Response:
    try:
        body = JobCreate.model_validate({"kind": kind, "object_type": object_type, "dry_run": bool(dry_run)})
    except ValidationError:
        web.flash(session, principal, "Choose a direction and what to sync from the lists.", "error")
        return web.redirect(request, "/jobs")
    if repeat_of:
        # "Run it for real" after a dry run: the same job, with the same filter, writing this time.
        original = jobs.describe(jobs.get_job(session, principal.workspace.id, uuid.UUID(repeat_of)))
        body = JobCreate.model_validate(
            {
                "kind": original.kind,
                "object_type": _choice(original.object_types),
                "filter": original.filter,
                "dry_run": False,
            }
        )
    with web.attempt(session) as failures:
        job = jobs.start_job(session, principal.workspace, body, source_for(session, principal, db), settings)
    if failures:
        web.flash(session, principal, failures[0].message, "error")
        return web.redirect(request, "/jobs")
    source, target = KINDS[body.kind]
    what = "Dry run started: nothing is written" if body.dry_run else f"Started: {source} records go to {target}"
    web.flash(session, principal, f"{what}.")
    return web.redirect(request, f"/jobs/{job.id}")


def _choice(object_types: list[str]) -> str:
    return "both" if len(object_types) > 1 else object_types[0]


@router.get("/jobs/{job_id}")
def job_page(request: Request, job_id: uuid.UUID, session: SessionDep, principal: web.PrincipalDep) -> HTMLResponse:
    job = jobs.describe(jobs.get_job(session, principal.workspace.id, job_id))
    return web.render(
        request,
        "job.html",
        title="Bulk job",
        nav="jobs",
        session=session,
        principal=principal,
        job=job,
        outcomes=OUTCOMES,
        kinds=KINDS,
    )


@router.get("/jobs/{job_id}/progress")
def job_progress(job_id: uuid.UUID, session: SessionDep, principal: web.PrincipalDep) -> JSONResponse:
    """What the progress bar reads every second while the job runs."""
    job: JobRead = jobs.describe(jobs.get_job(session, principal.workspace.id, job_id))
    return JSONResponse(
        {
            "status": job.status,
            "finished": job.status in {"completed", "failed", "cancelled"},
            "percent": job.progress.percent,
            "stage": job.progress.stage,
            "object_type": job.progress.object_type,
            "eta_seconds": job.progress.eta_seconds,
            "rate_per_second": job.progress.rate_per_second,
            "total_estimate": job.progress.total_estimate,
            "totals": job.totals.model_dump(exclude={"after_match"}),
        }
    )


@guarded.post("/jobs/{job_id}/cancel")
def cancel_job(request: Request, job_id: uuid.UUID, session: SessionDep, principal: web.PrincipalDep) -> Response:
    with web.attempt(session) as failures:
        jobs.cancel_job(session, principal.workspace.id, job_id)
    web.flash(
        session,
        principal,
        failures[0].message if failures else "Stopping after the current batch; what is done stays done.",
        "error" if failures else "success",
    )
    return web.redirect(request, f"/jobs/{job_id}")


router.include_router(guarded)
