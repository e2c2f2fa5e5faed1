"""Accord REST (under /api/v1/accord) and the signed intake (POST /webhooks/accord/{workspace})."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool

from interlink.accord import service
from interlink.accord.schemas import (
    AccordLinkRead,
    IntakeAck,
    LinkRequest,
    PropertyNamesInput,
    PropertySettingsRead,
    ProvisionReport,
    PushQueued,
    PushRequest,
)
from interlink.connectors.accord.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER
from interlink.deps import DatabaseDep, SessionDep, WorkspaceDep
from interlink.kit.pagination import Page, decode_cursor, encode_cursor

router = APIRouter(prefix="/accord", tags=["accord"])
webhook_router = APIRouter()

AccordId = Annotated[str, Path(description="The Accord's id (as in its events)", max_length=60)]


@router.get("/links", summary="Accords and the deals their data is pushed to (flagged ones need a person)")
def list_links(
    workspace: WorkspaceDep,
    session: SessionDep,
    flagged: Annotated[bool | None, Query(description="Only flagged (true) or only unflagged (false) links")] = None,
    deal_id: Annotated[str | None, Query(description="The link of this HubSpot deal")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> Page[AccordLinkRead]:
    after = decode_cursor(cursor)
    links = service.list_links(
        session,
        workspace.id,
        flagged=flagged,
        deal_id=deal_id,
        after_accord_id=str(after) if after is not None else None,
        limit=limit + 1,
    )
    items = [AccordLinkRead.model_validate(link) for link in links[:limit]]
    next_cursor = encode_cursor(items[-1].accord_id) if len(links) > limit else None
    return Page[AccordLinkRead](items=items, next_cursor=next_cursor)


@router.get("/links/{accord_id}", summary="One Accord's link: its deal, newest data, and what was pushed")
def get_link(accord_id: AccordId, workspace: WorkspaceDep, session: SessionDep) -> AccordLinkRead:
    return AccordLinkRead.model_validate(service.get_link(session, workspace.id, accord_id))


@router.put(
    "/links/{accord_id}",
    summary="Link an Accord to a deal, or relink it to another one (clears a flag; pushes its latest data)",
)
def link_to_deal(
    accord_id: AccordId, body: LinkRequest, workspace: WorkspaceDep, session: SessionDep, db: DatabaseDep
) -> PushQueued:
    link, queued = service.link_to_deal(db, session, workspace.id, accord_id, body.deal_id)
    return PushQueued(link=AccordLinkRead.model_validate(link), queued=queued)


@router.post("/links/{accord_id}/push", summary="Push the Accord's latest data again (force: every property)")
def push_again(
    accord_id: AccordId, workspace: WorkspaceDep, session: SessionDep, body: PushRequest | None = None
) -> PushQueued:
    link, queued = service.request_push(session, workspace.id, accord_id, force=body.force if body else False)
    return PushQueued(link=AccordLinkRead.model_validate(link), queued=queued)


@router.delete("/links/{accord_id}", summary="Stop pushing this Accord (the deal keeps its values)")
def unlink(accord_id: AccordId, workspace: WorkspaceDep, session: SessionDep) -> AccordLinkRead:
    return AccordLinkRead.model_validate(service.unlink(session, workspace.id, accord_id))


@router.get("/properties", summary="The deal properties' internal names, and the last provisioning")
def get_properties(workspace: WorkspaceDep, session: SessionDep) -> PropertySettingsRead:
    return service.property_settings(session, workspace.id)


@router.put(
    "/properties",
    summary="Set the deal properties' internal names (each must exist on the deal in HubSpot; left out: default)",
)
def save_properties(
    body: PropertyNamesInput, workspace: WorkspaceDep, session: SessionDep, db: DatabaseDep
) -> PropertySettingsRead:
    return service.save_property_names(db, session, workspace.id, body)


@router.post(
    "/provision",
    summary="Create the deal property group and the seven properties in HubSpot (idempotent; clashes reported)",
)
def provision(workspace: WorkspaceDep, session: SessionDep, db: DatabaseDep) -> ProvisionReport:
    return service.provision(db, session, workspace.id)


@webhook_router.post(
    "/accord/{workspace}",
    summary="Accord events, signed: X-Accord-Timestamp and X-Accord-Signature: v1=HMAC-SHA256(timestamp.body)",
    responses={
        400: {"description": "The body is not a JSON object"},
        401: {"description": f"{SIGNATURE_HEADER} or {TIMESTAMP_HEADER} missing, wrong or outside 5 minutes"},
        413: {"description": "The body is larger than 64 KiB"},
        422: {"description": "A value cannot be accepted; the error names the field"},
    },
)
async def accord_webhook(workspace: Annotated[str, Path(max_length=63)], request: Request) -> IntakeAck:
    body = await request.body()
    app = request.app
    return await run_in_threadpool(
        service.accept_webhook,
        app.state.db,
        app.state.cipher,
        slug=workspace,
        body=body,
        headers=dict(request.headers),
    )
