"""Status mappings: the two many-to-one maps side by side, every value of both systems listed, unmapped values
highlighted, and the warnings for pairs that can never be consistent."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from interlink.admin import web
from interlink.admin.auth import Principal
from interlink.admin.pages.mappings import schemas, source_for
from interlink.db import Database
from interlink.deps import DatabaseDep, SessionDep
from interlink.errors import InterlinkError
from interlink.mappings import service as mappings
from interlink.mappings.canonical import FieldType
from interlink.mappings.fields import ObjectType
from interlink.mappings.schemas import StatusMappingCreate
from interlink.workspaces.schemas import WorkspaceOptionsUpdate
from interlink.workspaces.service import options_of, update_options

router = APIRouter()
guarded = APIRouter(dependencies=[Depends(web.csrf_protect)])


def _page(
    request: Request,
    session: Session,
    principal: Principal,
    db: Database,
    object_type: ObjectType,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    source = source_for(session, principal, db)
    hubspot, accelo, unavailable = schemas(session, principal, object_type, source)
    prop = options_of(principal.workspace).status_property(object_type.value)
    summary = None
    if not unavailable:
        try:
            summary = mappings.status_summary(session, principal.workspace, object_type, source)
        except InterlinkError as exc:
            unavailable = exc.message
    spec = hubspot.get(prop)
    hubspot_values = list(spec.options or []) if spec else []
    accelo_values = list(accelo["status"].options or []) if "status" in accelo else []
    arrows = mappings.list_status_mappings(session, principal.workspace.id, object_type.value)
    h2a = {a.source_value: a.target_value for a in arrows if a.direction == "h2a"}
    a2h = {a.source_value: a.target_value for a in arrows if a.direction == "a2h"}
    enum_properties = sorted(
        (name, field.label) for name, field in hubspot.items() if field.type is FieldType.enumeration
    )
    return web.render(
        request,
        "statuses.html",
        title=f"Status mappings: {object_type.value}s",
        nav="statuses",
        session=session,
        principal=principal,
        status_code=status_code,
        object_type=object_type.value,
        prop=prop,
        prop_label=spec.label if spec else prop,
        option_labels=(spec.option_labels or {}) if spec else {},
        hubspot_values=hubspot_values,
        accelo_values=accelo_values,
        h2a=h2a,
        a2h=a2h,
        stale_h2a=sorted(set(h2a) - set(hubspot_values)) if hubspot_values else [],
        stale_a2h=sorted(set(a2h) - set(accelo_values)) if accelo_values else [],
        warnings=summary.warnings if summary else [],
        unavailable=unavailable,
        errors=errors or {},
        enum_properties=enum_properties,
    )


@router.get("/statuses/{object_type}")
def statuses_page(
    request: Request, object_type: ObjectType, session: SessionDep, principal: web.PrincipalDep, db: DatabaseDep
) -> HTMLResponse:
    return _page(request, session, principal, db, object_type)


@guarded.post("/statuses/{object_type}/property")
def save_property(
    request: Request,
    object_type: ObjectType,
    session: SessionDep,
    principal: web.PrincipalDep,
    db: DatabaseDep,
    property_name: Annotated[str, Form()] = "",
) -> Response:
    field = f"{object_type.value}_status_property"
    hubspot, _accelo, unavailable = schemas(session, principal, object_type, source_for(session, principal, db))
    spec = hubspot.get(property_name.strip())
    if unavailable or spec is None or spec.type is not FieldType.enumeration:
        message = unavailable or f"HubSpot has no {object_type.value} dropdown property {property_name.strip()!r}"
        return _page(request, session, principal, db, object_type, errors={"property": message}, status_code=422)
    update_options(session, principal.workspace, WorkspaceOptionsUpdate.model_validate({field: property_name.strip()}))
    web.flash(
        session, principal, f"{object_type.value.capitalize()} statuses now live in HubSpot's {property_name.strip()}."
    )
    return web.redirect(request, f"/statuses/{object_type.value}")


@guarded.post("/statuses/{object_type}/{direction}")
def save_map(
    request: Request,
    object_type: ObjectType,
    direction: str,
    session: SessionDep,
    principal: web.PrincipalDep,
    db: DatabaseDep,
    source_value: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies defaults
    target_value: Annotated[list[str], Form()] = [],  # noqa: B006
) -> Response:
    """Save one whole map: each source value's target (blank: unmapped). All or nothing."""
    if direction not in {"h2a", "a2h"}:
        raise InterlinkError("unknown map")
    source = source_for(session, principal, db)
    existing = {
        arrow.source_value: arrow
        for arrow in mappings.list_status_mappings(session, principal.workspace.id, object_type.value)
        if arrow.direction == direction
    }
    errors: dict[str, str] = {}
    changed = 0
    savepoint = session.begin_nested()
    for value, target in zip(source_value, target_value, strict=False):
        arrow = existing.get(value)
        if (arrow.target_value if arrow else "") == target:
            continue
        with web.attempt(session) as failures:
            if arrow is not None and not target:
                mappings.delete_status_mapping(session, principal.workspace.id, arrow.id)
            elif arrow is not None:
                mappings.update_status_mapping(session, principal.workspace, arrow.id, target, source)
            else:
                body = StatusMappingCreate(
                    object_type=object_type,
                    direction=direction,
                    source_value=value,
                    target_value=target,
                )
                mappings.create_status_mapping(session, principal.workspace, body, source)
        if failures:
            errors[value] = failures[0].message
        else:
            changed += 1
    if errors:
        savepoint.rollback()
        return _page(
            request,
            session,
            principal,
            db,
            object_type,
            errors={f"{direction}:{k}": v for k, v in errors.items()},
            status_code=422,
        )
    savepoint.commit()
    name = "HubSpot → Accelo" if direction == "h2a" else "Accelo → HubSpot"
    web.flash(session, principal, f"Saved the {name} map ({changed} change{'s' if changed != 1 else ''}).")
    return web.redirect(request, f"/statuses/{object_type.value}")


router.include_router(guarded)
