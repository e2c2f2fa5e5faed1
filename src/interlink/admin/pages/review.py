"""The review queue: records that need a person (held conflicts, several possible twins, failures, deletions),
each with its reason and the actions that fix it: retry, keep one side's value, link by hand, ignore. The same
actions (and resync, unlink) are on the record page."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from interlink.admin import web
from interlink.admin.auth import Principal
from interlink.admin.pages.records import display_name
from interlink.deps import SessionDep
from interlink.sync import service as sync
from interlink.sync.schemas import LinkDetail

router = APIRouter()
guarded = APIRouter(dependencies=[Depends(web.csrf_protect)])
QUEUE_SIZE = 50
Back = Annotated[str, Form()]


def candidates_for(session: Session, principal: Principal, link_id: uuid.UUID) -> list[str]:
    """The twins matching found for a record waiting for review (from its latest needs-review decision)."""
    for entry in sync.history(session, principal.workspace.id, link_id, field=None, before_id=None, limit=10):
        if entry.action == "needs_review" and entry.details.get("candidates"):
            return [str(candidate) for candidate in entry.details["candidates"]]
    return []


@router.get("/review")
def review_page(request: Request, session: SessionDep, principal: web.PrincipalDep) -> HTMLResponse:
    links = sync.list_links(
        session,
        principal.workspace.id,
        state=None,
        flagged=True,
        object_type=None,
        search=None,
        after=None,
        limit=QUEUE_SIZE,
    )
    items = []
    for link in links:
        detail = sync.link_detail(session, principal.workspace.id, link.id)
        missing_side = not (link.hubspot_id and link.accelo_id)
        items.append(
            {
                "link": detail,
                "name": display_name(detail),
                "candidates": candidates_for(session, principal, link.id) if missing_side else [],
                "kind": _kind(detail),
            }
        )
    summary = sync.summary(session, principal.workspace.id)
    return web.render(
        request,
        "review.html",
        title="Review queue",
        nav="review",
        session=session,
        principal=principal,
        items=items,
        total=summary.flagged,
    )


def _kind(link: LinkDetail) -> str:
    if link.state == "failed":
        return "Failed"
    if any(f.state == "review" for f in link.fields):
        return "Conflict"
    if link.state == "closed":
        return "Deleted on one side"
    if not (link.hubspot_id and link.accelo_id):
        return "No twin chosen"
    return "Needs review"


def _back(request: Request, back: str, link_id: uuid.UUID) -> RedirectResponse:
    base = web.base_path(request)
    if back.startswith(base + "/") and not back.startswith("//"):
        return RedirectResponse(back, status_code=303)
    return web.redirect(request, f"/records/{link_id}")


@guarded.post("/records/{link_id}/retry")
def retry(
    request: Request, link_id: uuid.UUID, session: SessionDep, principal: web.PrincipalDep, back: Back = ""
) -> Response:
    link, queued = sync.retry(session, principal.workspace.id, link_id)
    web.flash(session, principal, f"Retrying {display_name(link) or 'the record'} now: both systems are read again.")
    return _back(request, back, link_id)


@guarded.post("/records/{link_id}/resolve")
def resolve(
    request: Request,
    link_id: uuid.UUID,
    session: SessionDep,
    principal: web.PrincipalDep,
    field: Annotated[str, Form()],
    keep: Annotated[Literal["hubspot", "accelo"], Form()],
    back: Back = "",
) -> Response:
    with web.attempt(session) as failures:
        sync.resolve_field(session, principal.workspace.id, link_id, field, keep, actor=web.actor(principal))
    if failures:
        web.flash(session, principal, failures[0].message, "error")
    else:
        winner, target = ("HubSpot", "Accelo") if keep == "hubspot" else ("Accelo", "HubSpot")
        web.flash(
            session, principal, f"Keeping {winner}'s value of {field.split('|')[0]}; it is being written to {target}."
        )
    return _back(request, back, link_id)


@guarded.post("/records/{link_id}/link")
def link_by_hand(
    request: Request,
    link_id: uuid.UUID,
    session: SessionDep,
    principal: web.PrincipalDep,
    other_id: Annotated[str, Form()] = "",
    back: Back = "",
) -> Response:
    link = sync.get_link(session, principal.workspace.id, link_id)
    hubspot_id, accelo_id = (None, other_id) if link.hubspot_id else (other_id, None)
    with web.attempt(session) as failures:
        sync.link_by_hand(
            session,
            principal.workspace.id,
            link_id,
            hubspot_id=hubspot_id,
            accelo_id=accelo_id,
            actor=web.actor(principal),
        )
    if failures:
        web.flash(session, principal, failures[0].message, "error")
    else:
        web.flash(session, principal, "Linked. The two records are being synced now.")
    return _back(request, back, link_id)


@guarded.post("/records/{link_id}/ignore")
def ignore(
    request: Request, link_id: uuid.UUID, session: SessionDep, principal: web.PrincipalDep, back: Back = ""
) -> Response:
    sync.ignore(session, principal.workspace.id, link_id, actor=web.actor(principal))
    web.flash(session, principal, "Taken out of the review queue. It comes back if anything new needs a person.")
    return _back(request, back, link_id)


@guarded.post("/records/{link_id}/resync")
def resync(
    request: Request,
    link_id: uuid.UUID,
    session: SessionDep,
    principal: web.PrincipalDep,
    prefer: Annotated[str, Form()] = "",
    back: Back = "",
) -> Response:
    side = prefer if prefer in {"hubspot", "accelo"} else None
    with web.attempt(session) as failures:
        sync.resync(session, principal.workspace.id, link_id, side)
    if failures:
        web.flash(session, principal, failures[0].message, "error")
    else:
        what = {"hubspot": "HubSpot's values are copied to Accelo", "accelo": "Accelo's values are copied to HubSpot"}
        web.flash(session, principal, what.get(side or "", "Syncing the two records again") + ".")
    return _back(request, back, link_id)


@guarded.post("/records/{link_id}/unlink")
def unlink(
    request: Request, link_id: uuid.UUID, session: SessionDep, principal: web.PrincipalDep, back: Back = ""
) -> Response:
    sync.unlink(session, principal.workspace.id, link_id)
    web.flash(session, principal, "Unlinked. Both records stay as they are; changes no longer flow between them.")
    return _back(request, back, link_id)


router.include_router(guarded)
