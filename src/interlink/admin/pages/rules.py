"""Sync rules: which unlinked records may be created in the other system. A builder for nested all/any groups
whose operators fit each field's type, and "try it on a record" (the decision, and the leaf that failed)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from interlink.admin import web
from interlink.admin.auth import Principal
from interlink.admin.pages.mappings import schemas, source_for
from interlink.db import Database
from interlink.deps import DatabaseDep, SessionDep
from interlink.errors import InterlinkError, ValidationFailed
from interlink.mappings import service as mappings
from interlink.mappings.fields import ObjectType
from interlink.mappings.rules import OPERATORS_BY_TYPE, fields_of
from interlink.mappings.schemas import EvaluateRequest, RuleDirection, SyncRuleCreate, SyncRuleUpdate

router = APIRouter()
guarded = APIRouter(dependencies=[Depends(web.csrf_protect)])

SOURCE = {"pull": ("HubSpot", "Accelo"), "push": ("Accelo", "HubSpot")}
OPERATOR_LABELS = {
    "eq": "is",
    "ne": "is not",
    "in": "is any of",
    "not_in": "is none of",
    "contains": "contains",
    "not_contains": "does not contain",
    "starts_with": "starts with",
    "ends_with": "ends with",
    "is_set": "has a value",
    "is_not_set": "is empty",
    "gt": "is more than / after",
    "gte": "is at least / on or after",
    "lt": "is less than / before",
    "lte": "is at most / on or before",
}


@router.get("/rules")
def rules_page(request: Request, session: SessionDep, principal: web.PrincipalDep) -> HTMLResponse:
    return web.render(
        request,
        "rules.html",
        title="Sync rules",
        nav="rules",
        session=session,
        principal=principal,
        slots=mappings.rule_slots(session, principal.workspace.id),
        sources=SOURCE,
    )


def _rule_page(
    request: Request,
    session: Session,
    principal: Principal,
    db: Database,
    object_type: ObjectType,
    direction: RuleDirection,
    *,
    draft: str | None = None,
    error: InterlinkError | None = None,
    trial: dict[str, Any] | None = None,
    record_id: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    slot = next(
        s
        for s in mappings.rule_slots(session, principal.workspace.id)
        if s.object_type == object_type.value and s.direction == direction
    )
    source = source_for(session, principal, db)
    hubspot, accelo, unavailable = schemas(session, principal, object_type, source)
    fields = hubspot if direction == "pull" else accelo
    condition = draft if draft is not None else json.dumps(slot.rule.condition if slot.rule else None, indent=2)
    builder = {
        "fields": [
            {"name": f.name, "label": f.label, "type": f.type.value, "options": f.options or []}
            for f in sorted(fields.values(), key=lambda f: f.label.lower())
        ],
        "operators": {t.value: sorted(ops) + ["is_set", "is_not_set"] for t, ops in OPERATORS_BY_TYPE.items()},
        "labels": OPERATOR_LABELS,
        "error_path": _error_path(error),
    }
    return web.render(
        request,
        "rule.html",
        title=f"Sync rule: {object_type.value}s {SOURCE[direction][0]} → {SOURCE[direction][1]}",
        nav="rules",
        session=session,
        principal=principal,
        status_code=status_code,
        object_type=object_type.value,
        direction=direction,
        source_name=SOURCE[direction][0],
        target_name=SOURCE[direction][1],
        slot=slot,
        condition=condition,
        builder=json.dumps(builder).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"),
        unavailable=unavailable,
        error=error,
        trial=trial,
        record_id=record_id,
    )


def _error_path(error: InterlinkError | None) -> str | None:
    details = error.details if error else None
    if isinstance(details, list) and details and isinstance(details[0], dict):
        field = str(details[0].get("field", ""))
        return field.removeprefix("condition.") or None
    return None


@router.get("/rules/{object_type}/{direction}")
def rule_page(
    request: Request,
    object_type: ObjectType,
    direction: RuleDirection,
    session: SessionDep,
    principal: web.PrincipalDep,
    db: DatabaseDep,
    record_id: str = "",
) -> HTMLResponse:
    """The builder, and with ``record_id``: what the saved rule decides for that record, fetched live."""
    trial: dict[str, Any] | None = None
    record_id = record_id.strip()
    if record_id:
        body = EvaluateRequest(object_type=object_type, direction=direction, record_id=record_id)
        try:
            result = mappings.evaluate_rule(session, principal.workspace, body, source_for(session, principal, db))
        except InterlinkError as exc:
            trial = {"error": exc.message}
        else:
            slot_rule = mappings.active_rule(session, principal.workspace.id, object_type.value, direction)
            looked_at = sorted(fields_of(slot_rule)) if slot_rule is not None else []
            trial = {
                "matched": result.matched,
                "reason": result.reason,
                "failing_leaf": result.failing_leaf,
                "path": result.path,
                "values": {name: result.values.get(name) for name in looked_at},
            }
    return _rule_page(request, session, principal, db, object_type, direction, trial=trial, record_id=record_id)


@guarded.post("/rules/{object_type}/{direction}")
def save_rule(
    request: Request,
    object_type: ObjectType,
    direction: RuleDirection,
    session: SessionDep,
    principal: web.PrincipalDep,
    db: DatabaseDep,
    condition: Annotated[str, Form()] = "",
    enabled: Annotated[str, Form()] = "",
) -> Response:
    def refuse(message: str) -> HTMLResponse:
        return _rule_page(
            request,
            session,
            principal,
            db,
            object_type,
            direction,
            draft=condition,
            error=ValidationFailed(message),
            status_code=422,
        )

    try:
        parsed = json.loads(condition or "null")
    except json.JSONDecodeError as exc:
        return refuse(f"the rule is not valid JSON: {exc.msg} (line {exc.lineno})")
    if parsed is None:
        return refuse("add at least one condition")
    existing = next(
        (
            s.rule
            for s in mappings.rule_slots(session, principal.workspace.id)
            if s.object_type == object_type.value and s.direction == direction
        ),
        None,
    )
    source = source_for(session, principal, db)
    try:
        if existing is None:
            create = SyncRuleCreate.model_validate(
                {"object_type": object_type, "direction": direction, "condition": parsed, "enabled": bool(enabled)}
            )
        else:
            update = SyncRuleUpdate.model_validate({"condition": parsed, "enabled": bool(enabled)})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return refuse(f"{where}: {str(first['msg']).removeprefix('Value error, ')}")
    with web.attempt(session) as failures:
        if existing is None:
            mappings.create_rule(session, principal.workspace, create, source)
        else:
            mappings.update_rule(session, principal.workspace, existing.id, update, source)
    if failures:
        return _rule_page(
            request,
            session,
            principal,
            db,
            object_type,
            direction,
            draft=condition,
            error=failures[0],
            status_code=failures[0].status_code,
        )
    source_name, target_name = SOURCE[direction]
    web.flash(
        session,
        principal,
        f"Rule saved: {source_name} {object_type.value}s that match it are created in {target_name}"
        if enabled
        else "Rule saved, switched off: nothing is created automatically for this direction.",
    )
    return web.redirect(request, f"/rules/{object_type.value}/{direction}")


router.include_router(guarded)
