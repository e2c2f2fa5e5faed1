"""Accord: the deal properties' internal names, the provision button and its result, and the Accords whose
deal needs a person."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from interlink.accord import service as accord
from interlink.accord.properties import PROPERTIES
from interlink.accord.schemas import PropertyNamesInput, ProvisionReport
from interlink.admin import web
from interlink.admin.auth import Principal
from interlink.deps import DatabaseDep, SessionDep

router = APIRouter()
guarded = APIRouter(dependencies=[Depends(web.csrf_protect)])


def _page(
    request: Request,
    session: Session,
    principal: Principal,
    *,
    errors: dict[str, str] | None = None,
    drafts: dict[str, str] | None = None,
    report: ProvisionReport | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    settings = accord.property_settings(session, principal.workspace.id)
    flagged = accord.list_links(
        session, principal.workspace.id, flagged=True, deal_id=None, after_accord_id=None, limit=50
    )
    return web.render(
        request,
        "accord.html",
        title="Accord",
        nav="accord",
        session=session,
        principal=principal,
        status_code=status_code,
        settings=settings,
        properties=PROPERTIES,
        report=report or settings.last_provision,
        fresh_report=report is not None,
        errors=errors or {},
        drafts=drafts or {},
        flagged=flagged,
    )


@router.get("/accord")
def accord_page(request: Request, session: SessionDep, principal: web.PrincipalDep) -> HTMLResponse:
    return _page(request, session, principal)


Name = Annotated[str, Form()]


@guarded.post("/accord/names")
def save_names(
    request: Request,
    session: SessionDep,
    principal: web.PrincipalDep,
    db: DatabaseDep,
    url: Name = "",
    status: Name = "",
    current_stage: Name = "",
    customers_invited: Name = "",
    customers_accepted: Name = "",
    progress: Name = "",
    execution_score: Name = "",
) -> Response:
    drafts = {
        "url": url,
        "status": status,
        "current_stage": current_stage,
        "customers_invited": customers_invited,
        "customers_accepted": customers_accepted,
        "progress": progress,
        "execution_score": execution_score,
    }
    drafts = {key: value.strip() for key, value in drafts.items()}
    try:
        wanted = PropertyNamesInput.model_validate({k: v for k, v in drafts.items() if v})
    except ValidationError as exc:
        errors = {str(e["loc"][0]): str(e["msg"]).removeprefix("Value error, ") for e in exc.errors()}
        return _page(request, session, principal, errors=errors, drafts=drafts, status_code=422)
    with web.attempt(session) as failures:
        accord.save_property_names(db, session, principal.workspace.id, wanted)
    if failures:
        errors = web.problem_fields(failures[0]) or {"form": failures[0].message}
        return _page(request, session, principal, errors=errors, drafts=drafts, status_code=failures[0].status_code)
    web.flash(session, principal, "Property names saved. New Accord data is pushed to these properties.")
    return web.redirect(request, "/accord")


@guarded.post("/accord/provision")
def provision(request: Request, session: SessionDep, principal: web.PrincipalDep, db: DatabaseDep) -> Response:
    report: ProvisionReport | None = None
    with web.attempt(session) as failures:
        report = accord.provision(db, session, principal.workspace.id)
    if failures or report is None:
        web.flash(session, principal, failures[0].message if failures else "Provisioning failed.", "error")
        return web.redirect(request, "/accord")
    return _page(request, session, principal, report=report)


router.include_router(guarded)
