from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from interlink.deps import SessionDep, WorkspaceDep
from interlink.kit.pagination import Page, decode_cursor, encode_cursor
from interlink.sync import service
from interlink.sync.schemas import (
    ActionResult,
    LedgerRead,
    LinkByHandRequest,
    LinkDetail,
    LinkRead,
    LinkStateName,
    LinkSummary,
    ResolveRequest,
    ResyncRequest,
)

router = APIRouter(prefix="/links", tags=["links"])
ledger_router = APIRouter(prefix="/ledger", tags=["links"])


@router.get(
    "",
    summary="Linked records, filtered by state (in_sync, needs_review, failed, paused, waiting, closed)",
    description="``paused``: a field of the record flipped too often and stopped syncing until a person resumes it "
    "(the oscillation breaker); its other fields keep syncing. A record that also waits for a decision shows as "
    "``needs_review``. ``flagged=true`` lists every record in the review queue.",
)
def list_links(
    workspace: WorkspaceDep,
    session: SessionDep,
    state: LinkStateName | None = None,
    flagged: Annotated[bool | None, Query(description="Only links a person should look at")] = None,
    object_type: Annotated[str | None, Query(pattern="^(contact|company)$")] = None,
    q: Annotated[str | None, Query(description="A HubSpot or Accelo record id, or text in a synced value")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> Page[LinkRead]:
    after = decode_cursor(cursor)
    links = service.list_links(
        session,
        workspace.id,
        state=state,
        flagged=flagged,
        object_type=object_type,
        search=q,
        after=uuid.UUID(after) if after else None,
        limit=limit + 1,
    )
    items = [LinkRead.model_validate(link) for link in links[:limit]]
    return Page[LinkRead](items=items, next_cursor=encode_cursor(str(items[-1].id)) if len(links) > limit else None)


@router.get("/summary", summary="Records by link state, and how many wait in the review queue")
def links_summary(workspace: WorkspaceDep, session: SessionDep) -> LinkSummary:
    return service.summary(session, workspace.id)


@router.get("/{link_id}", summary="One link, field by field")
def get_link(link_id: uuid.UUID, workspace: WorkspaceDep, session: SessionDep) -> LinkDetail:
    return service.link_detail(session, workspace.id, link_id)


@router.get("/{link_id}/history", summary="Why did this field change? The link's ledger, newest first")
def link_history(
    link_id: uuid.UUID,
    workspace: WorkspaceDep,
    session: SessionDep,
    field: Annotated[str | None, Query(description="Only entries about this field (a HubSpot property name)")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> Page[LedgerRead]:
    entries = service.history(
        session, workspace.id, link_id, field=field, before_id=decode_cursor(cursor), limit=limit + 1
    )
    items = [LedgerRead.model_validate(entry) for entry in entries[:limit]]
    return Page[LedgerRead](items=items, next_cursor=encode_cursor(items[-1].id) if len(entries) > limit else None)


@router.post("/{link_id}/retry", summary="Try a failed record again now")
def retry_link(link_id: uuid.UUID, workspace: WorkspaceDep, session: SessionDep) -> ActionResult:
    link, queued = service.retry(session, workspace.id, link_id)
    return ActionResult(link=LinkRead.model_validate(link), queued_events=queued)


@router.post("/{link_id}/resync", summary="Reconcile a link again, optionally letting one side win everything")
def resync_link(
    link_id: uuid.UUID, workspace: WorkspaceDep, session: SessionDep, body: ResyncRequest | None = None
) -> ActionResult:
    link, queued = service.resync(session, workspace.id, link_id, body.prefer if body else None)
    return ActionResult(link=LinkRead.model_validate(link), queued_events=queued)


@router.delete("/{link_id}", summary="Unlink two records (both are left as they are)")
def unlink(link_id: uuid.UUID, workspace: WorkspaceDep, session: SessionDep) -> LinkRead:
    return LinkRead.model_validate(service.unlink(session, workspace.id, link_id))


@router.post("/{link_id}/resolve", summary="Settle a field held for review: keep one side's value")
def resolve_field(
    link_id: uuid.UUID, body: ResolveRequest, workspace: WorkspaceDep, session: SessionDep
) -> ActionResult:
    link, queued = service.resolve_field(session, workspace.id, link_id, body.field, body.keep)
    return ActionResult(link=LinkRead.model_validate(link), queued_events=queued)


@router.post("/{link_id}/link", summary="Pair a record waiting for review with the twin you choose")
def link_by_hand(
    link_id: uuid.UUID, body: LinkByHandRequest, workspace: WorkspaceDep, session: SessionDep
) -> ActionResult:
    link, queued = service.link_by_hand(
        session, workspace.id, link_id, hubspot_id=body.hubspot_id, accelo_id=body.accelo_id, prefer=body.prefer
    )
    return ActionResult(link=LinkRead.model_validate(link), queued_events=queued)


@router.post("/{link_id}/ignore", summary="Take a record out of the review queue (it keeps its state)")
def ignore(link_id: uuid.UUID, workspace: WorkspaceDep, session: SessionDep) -> LinkRead:
    return LinkRead.model_validate(service.ignore(session, workspace.id, link_id))


@ledger_router.get("", summary="The workspace's latest sync decisions, newest first")
def recent_activity(
    workspace: WorkspaceDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> Page[LedgerRead]:
    entries = service.recent_activity(session, workspace.id, before_id=decode_cursor(cursor), limit=limit + 1)
    items = [LedgerRead.model_validate(entry) for entry in entries[:limit]]
    return Page[LedgerRead](items=items, next_cursor=encode_cursor(items[-1].id) if len(entries) > limit else None)
