from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from interlink.deps import SessionDep, WorkspaceDep
from interlink.kit.pagination import Page, decode_cursor, encode_cursor
from interlink.sync import service
from interlink.sync.schemas import ActionResult, LedgerRead, LinkDetail, LinkRead, LinkStateName, ResyncRequest

router = APIRouter(prefix="/links", tags=["links"])


@router.get("", summary="Linked records, filtered by state (in_sync, needs_review, failed, paused, waiting, closed)")
def list_links(
    workspace: WorkspaceDep,
    session: SessionDep,
    state: LinkStateName | None = None,
    flagged: Annotated[bool | None, Query(description="Only links a person should look at")] = None,
    object_type: Annotated[str | None, Query(pattern="^(contact|company)$")] = None,
    q: Annotated[str | None, Query(description="A HubSpot or Accelo record id")] = None,
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
