"""Sync health at a glance: records by state, the inbox's pace and lag, vendor API usage, recent decisions."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from interlink.admin import web
from interlink.connections import service as connections
from interlink.connections.registry import connectors_for
from interlink.connections.usage import api_usage
from interlink.deps import DatabaseDep, SessionDep
from interlink.inbox import service as inbox
from interlink.sync import service as sync

router = APIRouter()


@router.get("/")
def dashboard(request: Request, session: SessionDep, db: DatabaseDep, principal: web.PrincipalDep) -> HTMLResponse:
    workspace = principal.workspace
    summary = sync.summary(session, workspace.id)
    activity = inbox.activity(session, workspace.id, minutes=60)
    systems = {connection.system: connection for connection in connections.list_connections(session, workspace.id)}
    usage = api_usage(session, workspace.id, connectors_for(db))
    recent = sync.recent_activity(session, workspace.id, limit=12)
    received = [minute.received for minute in activity.minutes]
    waits = [minute.longest_wait_seconds for minute in activity.minutes]
    return web.render(
        request,
        "dashboard.html",
        title="Dashboard",
        nav="dashboard",
        session=session,
        principal=principal,
        summary=summary,
        activity=activity,
        received=received,
        waits=waits,
        systems=systems,
        usage=usage,
        recent=recent,
    )
