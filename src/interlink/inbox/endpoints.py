from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from interlink.deps import SessionDep, WorkspaceDep
from interlink.inbox import service
from interlink.inbox.repository import WorkspaceEventRepository
from interlink.inbox.schemas import EventDetail, EventRead, EventStatus, InboxActivity, InboxSummary
from interlink.kit.pagination import Page, decode_cursor, encode_cursor
from interlink.kit.time import utc_now

router = APIRouter(prefix="/events", tags=["inbox"])


@router.get("", summary="Inbound webhook events, newest first")
def list_events(
    workspace: WorkspaceDep,
    session: SessionDep,
    status: EventStatus | None = None,
    source: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> Page[EventRead]:
    before_id = decode_cursor(cursor)
    events = service.list_events(
        session, workspace.id, status=status, source=source, before_id=before_id, limit=limit + 1
    )
    items = [EventRead.model_validate(event) for event in events[:limit]]
    next_cursor = encode_cursor(items[-1].id) if len(events) > limit else None
    return Page[EventRead](items=items, next_cursor=next_cursor)


@router.get("/summary", summary="Counts by status and the age of the oldest pending event")
def summary(workspace: WorkspaceDep, session: SessionDep) -> InboxSummary:
    repository = WorkspaceEventRepository(session, workspace.id)
    oldest = repository.oldest_pending_received_at()
    return InboxSummary(
        counts=repository.count_by_status(),
        oldest_pending_age_seconds=(utc_now() - oldest).total_seconds() if oldest else None,
    )


@router.get("/activity", summary="Events received per minute and the longest wait per minute, for the last hour")
def activity(
    workspace: WorkspaceDep, session: SessionDep, minutes: Annotated[int, Query(ge=5, le=1440)] = 60
) -> InboxActivity:
    return service.activity(session, workspace.id, minutes=minutes)


@router.get("/{event_id}", summary="One event with its raw payload")
def get_event(event_id: int, workspace: WorkspaceDep, session: SessionDep) -> EventDetail:
    return EventDetail.model_validate(service.get_event(session, workspace.id, event_id))


@router.post("/{event_id}/retry", summary="Send a failed event back to the queue")
def retry_event(event_id: int, workspace: WorkspaceDep, session: SessionDep) -> EventRead:
    return EventRead.model_validate(service.retry_event(session, workspace.id, event_id))
