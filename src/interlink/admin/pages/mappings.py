"""Field mappings: one table per object type, both systems' live fields to pick from, direction and conflict
policy per row, value maps for enumerations; the service's validation messages next to the row they are about.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from interlink.admin import web
from interlink.admin.auth import Principal
from interlink.connections.registry import connectors_for
from interlink.db import Database
from interlink.deps import DatabaseDep, SessionDep
from interlink.errors import InterlinkError
from interlink.mappings import service as mappings
from interlink.mappings.canonical import FieldType
from interlink.mappings.fields import FieldSpec, ObjectType
from interlink.mappings.live import LiveSchemaSource
from interlink.mappings.schema_source import SchemaSource, get_schema
from interlink.mappings.schemas import FieldMappingCreate, FieldMappingUpdate

router = APIRouter()
guarded = APIRouter(dependencies=[Depends(web.csrf_protect)])

DIRECTIONS = {"both": "Both ways", "to_accelo": "HubSpot → Accelo only", "to_hubspot": "Accelo → HubSpot only"}
DIRECTIONS_IN_A_SENTENCE = {
    "both": "both ways",
    "to_accelo": "HubSpot → Accelo only",
    "to_hubspot": "Accelo → HubSpot only",
}
POLICIES = {
    "latest": "Latest change wins",
    "hubspot_wins": "HubSpot wins",
    "accelo_wins": "Accelo wins",
    "review": "Hold for a person to decide",
}
ENUM_TYPES = {FieldType.enumeration, FieldType.multi_select, FieldType.bool}
ValueMapFrom = Annotated[list[str], Form()]
ValueMapTo = Annotated[list[str], Form()]


def source_for(session: Session, principal: Principal, db: Database) -> SchemaSource:
    return LiveSchemaSource.for_workspace(session, principal.workspace, connectors_for(db))


def schemas(
    session: Session, principal: Principal, object_type: ObjectType, source: SchemaSource, *, refresh: bool = False
) -> tuple[dict[str, FieldSpec], dict[str, FieldSpec], str | None]:
    """Both systems' fields by name, or empty lists and the reason they could not be read."""
    try:
        hubspot = get_schema(session, principal.workspace.id, "hubspot", object_type, source, refresh=refresh)
        accelo = get_schema(session, principal.workspace.id, "accelo", object_type, source, refresh=refresh)
    except InterlinkError as exc:
        return {}, {}, exc.message
    return {f.name: f for f in hubspot}, {f.name: f for f in accelo}, None


def value_map_of(sources: list[str], targets: list[str]) -> dict[str, str] | None:
    pairs = {source: target for source, target in zip(sources, targets, strict=False) if source and target}
    return pairs or None


def _page(
    request: Request,
    session: Session,
    principal: Principal,
    db: Database,
    object_type: ObjectType,
    *,
    row_errors: dict[str, list[dict[str, Any]]] | None = None,
    draft: dict[str, Any] | None = None,
    status_code: int = 200,
    refresh: bool = False,
) -> HTMLResponse:
    source = source_for(session, principal, db)
    hubspot, accelo, unavailable = schemas(session, principal, object_type, source, refresh=refresh)
    rows = mappings.list_field_mappings(session, principal.workspace.id, object_type.value)
    return web.render(
        request,
        "mappings.html",
        title=f"Field mappings: {object_type.value}s",
        nav="mappings",
        session=session,
        principal=principal,
        status_code=status_code,
        object_type=object_type.value,
        rows=rows,
        hubspot=hubspot,
        accelo=accelo,
        unavailable=unavailable,
        row_errors=row_errors or {},
        draft=draft or {},
        directions=DIRECTIONS,
        policies=POLICIES,
        enum_types=ENUM_TYPES,
    )


def _problems(error: InterlinkError) -> list[dict[str, Any]]:
    details = error.details
    items = details if isinstance(details, list) else [details] if isinstance(details, dict) else []
    found = [
        {
            "field": str(item.get("field", "")),
            "message": str(item.get("message", error.message)),
            "fix": item.get("fix"),
        }
        for item in items
        if isinstance(item, dict) and item.get("message")
    ]
    if not found:
        fix = details.get("fix") if isinstance(details, dict) else None
        found = [
            {
                "field": str(details.get("field", "")) if isinstance(details, dict) else "",
                "message": error.message,
                "fix": fix,
            }
        ]
    return found


@router.get("/mappings/{object_type}")
def mappings_page(
    request: Request,
    object_type: ObjectType,
    session: SessionDep,
    principal: web.PrincipalDep,
    db: DatabaseDep,
) -> HTMLResponse:
    return _page(request, session, principal, db, object_type)


@guarded.post("/mappings/{object_type}/refresh")
def refresh_fields(
    request: Request, object_type: ObjectType, session: SessionDep, principal: web.PrincipalDep, db: DatabaseDep
) -> Response:
    _hubspot, _accelo, unavailable = schemas(
        session, principal, object_type, source_for(session, principal, db), refresh=True
    )
    web.flash(
        session,
        principal,
        unavailable or "Field lists read again from HubSpot and Accelo.",
        "error" if unavailable else "success",
    )
    return web.redirect(request, f"/mappings/{object_type.value}")


@guarded.post("/mappings/{object_type}")
def add_mapping(
    request: Request,
    object_type: ObjectType,
    session: SessionDep,
    principal: web.PrincipalDep,
    db: DatabaseDep,
    hubspot_property: Annotated[str, Form()] = "",
    accelo_field: Annotated[str, Form()] = "",
    direction: Annotated[str, Form()] = "both",
    conflict_policy: Annotated[str, Form()] = "latest",
    vm_from: ValueMapFrom = [],  # noqa: B006 - FastAPI copies defaults
    vm_to: ValueMapTo = [],  # noqa: B006
) -> Response:
    draft = {
        "hubspot_property": hubspot_property.strip(),
        "accelo_field": accelo_field.strip(),
        "direction": direction,
        "conflict_policy": conflict_policy,
        "value_map": value_map_of(vm_from, vm_to),
    }
    try:
        body = FieldMappingCreate.model_validate({"object_type": object_type, **draft})
    except ValidationError as exc:
        problems = [
            {
                "field": str(e["loc"][0]) if e["loc"] else "",
                "message": f"{e['loc'][0] if e['loc'] else 'form'}: " + str(e["msg"]).lower().replace("string", "text"),
                "fix": None,
            }
            for e in exc.errors()
        ]
        return _page(
            request, session, principal, db, object_type, row_errors={"new": problems}, draft=draft, status_code=422
        )
    with web.attempt(session) as failures:
        mappings.create_field_mapping(session, principal.workspace, body, source_for(session, principal, db))
    if failures:
        return _page(
            request,
            session,
            principal,
            db,
            object_type,
            row_errors={"new": _problems(failures[0])},
            draft=draft,
            status_code=failures[0].status_code,
        )
    web.flash(
        session,
        principal,
        f"Mapped HubSpot {body.hubspot_property} to Accelo {body.accelo_field} "
        f"({DIRECTIONS_IN_A_SENTENCE[body.direction]}).",
    )
    return web.redirect(request, f"/mappings/{object_type.value}")


@guarded.post("/mappings/{object_type}/{mapping_id}")
def update_mapping(
    request: Request,
    object_type: ObjectType,
    mapping_id: uuid.UUID,
    session: SessionDep,
    principal: web.PrincipalDep,
    db: DatabaseDep,
    direction: Annotated[str, Form()] = "both",
    conflict_policy: Annotated[str, Form()] = "latest",
    enabled: Annotated[str, Form()] = "",
    has_value_map: Annotated[str, Form()] = "",
    vm_from: ValueMapFrom = [],  # noqa: B006
    vm_to: ValueMapTo = [],  # noqa: B006
) -> Response:
    changes: dict[str, Any] = {"direction": direction, "conflict_policy": conflict_policy, "enabled": bool(enabled)}
    if has_value_map:
        changes["value_map"] = value_map_of(vm_from, vm_to)
    try:
        body = FieldMappingUpdate.model_validate(changes)
    except ValidationError:
        return _page(
            request,
            session,
            principal,
            db,
            object_type,
            status_code=422,
            row_errors={
                str(mapping_id): [
                    {
                        "field": "direction",
                        "message": "choose a direction and a conflict policy from the lists",
                        "fix": None,
                    }
                ]
            },
        )
    with web.attempt(session) as failures:
        mapping = mappings.update_field_mapping(
            session, principal.workspace, mapping_id, body, source_for(session, principal, db)
        )
    if failures:
        return _page(
            request,
            session,
            principal,
            db,
            object_type,
            row_errors={str(mapping_id): _problems(failures[0])},
            status_code=failures[0].status_code,
        )
    state = "" if mapping.enabled else " (switched off)"
    web.flash(session, principal, f"Saved {mapping.hubspot_property} ↔ {mapping.accelo_field}{state}.")
    return web.redirect(request, f"/mappings/{object_type.value}")


@guarded.post("/mappings/{object_type}/{mapping_id}/delete")
def delete_mapping(
    request: Request,
    object_type: ObjectType,
    mapping_id: uuid.UUID,
    session: SessionDep,
    principal: web.PrincipalDep,
    db: DatabaseDep,
) -> Response:
    with web.attempt(session) as failures:
        mappings.delete_field_mapping(session, principal.workspace.id, mapping_id)
    if failures:
        return _page(
            request,
            session,
            principal,
            db,
            object_type,
            row_errors={str(mapping_id): _problems(failures[0])},
            status_code=failures[0].status_code,
        )
    web.flash(session, principal, "Mapping removed. Linked records keep their values; the field just stops syncing.")
    return web.redirect(request, f"/mappings/{object_type.value}")


router.include_router(guarded)
