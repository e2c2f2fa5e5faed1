"""Bulk jobs: start a pull or a push (a dry run first), watch its progress, read its outcome."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from interlink.admin import web
from interlink.deps import SessionDep

router = APIRouter()


@router.get("/jobs")
def jobs_page(request: Request, session: SessionDep, principal: web.PrincipalDep) -> HTMLResponse:
    return web.render(request, "jobs.html", title="Bulk jobs", nav="jobs", session=session, principal=principal)
