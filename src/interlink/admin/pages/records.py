"""Records: find links by state, type or text; a record page with both systems' values side by side per mapped
field, and its history from the ledger as a timeline ("why did this change?")."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from interlink.admin import web
from interlink.admin.pages.mappings import source_for
from interlink.connectors.errors import ConnectorError
from interlink.deps import DatabaseDep, SessionDep
from interlink.errors import InterlinkError
from interlink.mappings.fields import ObjectType
from interlink.models import Link
from interlink.sync import service as sync
from interlink.sync.schemas import LinkDetail

router = APIRouter()
PAGE_SIZE = 50
STATES = ("in_sync", "needs_review", "failed", "paused", "waiting", "closed")


def display_name(link: Link | LinkDetail) -> str:
    """A name a person recognises, from the values both sides last agreed on."""
    snapshot: dict[str, Any] = getattr(link, "snapshot", None) or {}
    if isinstance(link, LinkDetail):
        snapshot = {f.key: f.agreed_value for f in link.fields}
    if link.object_type == "company":
        name = snapshot.get("name|name") or snapshot.get("website|website")
        return str(name) if name else ""
    first, last = snapshot.get("firstname|firstname"), snapshot.get("lastname|surname")
    full = " ".join(str(part) for part in (first, last) if part)
    email = snapshot.get("email|affiliation.email")
    if full and email:
        return f"{full} <{email}>"
    return full or str(email or "")


@router.get("/records")
def records_page(
    request: Request,
    session: SessionDep,
    principal: web.PrincipalDep,
    state: str = "",
    object_type: str = "",
    q: str = "",
    after: str = "",
) -> HTMLResponse:
    after_id: uuid.UUID | None = None
    try:
        after_id = uuid.UUID(after) if after else None
    except ValueError:
        after_id = None
    links = sync.list_links(
        session,
        principal.workspace.id,
        state=state if state in STATES else None,
        flagged=None,
        object_type=object_type if object_type in {"contact", "company"} else None,
        search=q.strip() or None,
        after=after_id,
        limit=PAGE_SIZE + 1,
    )
    return web.render(
        request,
        "records.html",
        title="Records",
        nav="records",
        session=session,
        principal=principal,
        links=links[:PAGE_SIZE],
        more=str(links[PAGE_SIZE - 1].id) if len(links) > PAGE_SIZE else None,
        names={link.id: display_name(link) for link in links},
        state=state,
        object_type=object_type,
        q=q,
        states=STATES,
        summary=sync.summary(session, principal.workspace.id),
    )


@router.get("/records/{link_id}")
def record_page(
    request: Request,
    link_id: uuid.UUID,
    session: SessionDep,
    principal: web.PrincipalDep,
    db: DatabaseDep,
    field: str = "",
    live: bool = False,
) -> HTMLResponse:
    detail = sync.link_detail(session, principal.workspace.id, link_id)
    entries = sync.history(session, principal.workspace.id, link_id, field=field or None, before_id=None, limit=200)
    live_values: dict[str, dict[str, Any]] = {}
    live_error = None
    if live:
        source = source_for(session, principal, db)
        object_type = ObjectType(detail.object_type)
        try:
            if detail.hubspot_id:
                live_values["hubspot"] = source.fetch_record("hubspot", object_type, detail.hubspot_id)
            if detail.accelo_id:
                live_values["accelo"] = source.fetch_record("accelo", object_type, detail.accelo_id)
        except InterlinkError as exc:
            live_error = exc.message
        except ConnectorError as exc:
            live_error = str(exc)
    return web.render(
        request,
        "record.html",
        title=f"{detail.object_type.capitalize()} {display_name(detail) or detail.hubspot_id or detail.accelo_id}",
        nav="records",
        session=session,
        principal=principal,
        link=detail,
        name=display_name(detail),
        entries=entries,
        field=field,
        live=live,
        live_values=live_values,
        live_error=live_error,
        candidates=_candidates(session, principal, detail),
        show_admin_actions=True,
    )


def _candidates(session: Any, principal: Any, detail: LinkDetail) -> list[str]:
    from interlink.admin.pages.review import candidates_for

    if detail.hubspot_id and detail.accelo_id:
        return []
    return candidates_for(session, principal, detail.id)
