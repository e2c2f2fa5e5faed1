"""Field mappings, status mappings and sync rules: what admins edit, validated against the live schemas."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from interlink.errors import Conflict, NotFound, ValidationFailed
from interlink.mappings.canonical import Canonical, InvalidValue, decode_accelo, decode_hubspot
from interlink.mappings.fields import FieldSpec, ObjectType, System
from interlink.mappings.repository import FieldMappingRepo, StatusMappingRepo, SyncRuleRepo
from interlink.mappings.rules import Condition, RuleProblem, evaluate, validate_rule
from interlink.mappings.schema_source import SCHEMA_MAX_AGE, SchemaSource, get_schema, schema_by_name
from interlink.mappings.schemas import (
    EvaluateRequest,
    EvaluateResponse,
    FieldMappingCreate,
    FieldMappingUpdate,
    StatusMappingCreate,
    StatusMapSummary,
    SyncRuleCreate,
    SyncRuleRead,
    SyncRuleSlot,
    SyncRuleUpdate,
)
from interlink.mappings.status import StatusMaps, status_map_warnings
from interlink.mappings.validation import ExistingMapping, MappingDraft, validate_mapping
from interlink.models import FieldMapping, StatusMapping, SyncRule, Workspace
from interlink.workspaces.service import options_of

condition_adapter: TypeAdapter[Condition] = TypeAdapter(Condition)
RULE_SOURCE: dict[str, System] = {"pull": "hubspot", "push": "accelo"}
PLURAL = {ObjectType.contact: "contacts", ObjectType.company: "companies"}
# Before refusing a save that the cached schema rejects, look again at schemas at most this old: the admin who
# was told to add a field or option in HubSpot or Accelo, did, and saves again, is not refused from a stale copy,
# while refused saves re-read each vendor at most this often.
RECHECK_AGE = timedelta(seconds=30)


def _schemas(
    session: Session,
    workspace_id: uuid.UUID,
    object_type: ObjectType,
    source: SchemaSource,
    max_age: timedelta = SCHEMA_MAX_AGE,
) -> tuple[dict[str, FieldSpec], dict[str, FieldSpec]]:
    return (
        schema_by_name(get_schema(session, workspace_id, "hubspot", object_type, source, max_age=max_age)),
        schema_by_name(get_schema(session, workspace_id, "accelo", object_type, source, max_age=max_age)),
    )


def _recheck_before_refusing(check: Callable[[timedelta], None]) -> None:
    """Run ``check`` (which raises ValidationFailed) against the cached schemas, and once more against schemas
    at most RECHECK_AGE old before letting a refusal stand."""
    try:
        check(SCHEMA_MAX_AGE)
    except ValidationFailed:
        check(RECHECK_AGE)


def _refuse(problems: list[Any], what: str) -> None:
    if problems:
        first = problems[0]
        raise ValidationFailed(f"{what}: {first.message} — fix: {first.fix}", details=[p.as_dict() for p in problems])


# -- field mappings ----------------------------------------------------------------------------------------


def list_field_mappings(session: Session, workspace_id: uuid.UUID, object_type: str | None) -> Sequence[FieldMapping]:
    return FieldMappingRepo(session, workspace_id).for_type(object_type)


def get_field_mapping(session: Session, workspace_id: uuid.UUID, mapping_id: uuid.UUID) -> FieldMapping:
    mapping = FieldMappingRepo(session, workspace_id).get(mapping_id)
    if mapping is None:
        raise NotFound(f"field mapping {mapping_id} not found")
    return mapping


def _check_mapping(
    session: Session,
    workspace: Workspace,
    draft: MappingDraft,
    source: SchemaSource,
    ignore: uuid.UUID | None,
    *,
    enabled: bool = True,
) -> None:
    """Refuse a mapping that cannot work against the live schemas; a disabled one writes nothing, so it cannot
    collide with another mapping's target (that is checked when it is switched on)."""
    others = (
        [
            ExistingMapping(m.hubspot_property, m.accelo_field, m.direction)
            for m in FieldMappingRepo(session, workspace.id).for_type(draft.object_type, enabled_only=True)
            if m.id != ignore
        ]
        if enabled
        else []
    )
    status_property = options_of(workspace).status_property(draft.object_type)

    def check(max_age: timedelta) -> None:
        hubspot, accelo = _schemas(session, workspace.id, ObjectType(draft.object_type), source, max_age)
        problems = validate_mapping(draft, hubspot, accelo, others, status_property=status_property)
        _refuse(problems, "this mapping cannot be saved")

    _recheck_before_refusing(check)


def create_field_mapping(
    session: Session, workspace: Workspace, body: FieldMappingCreate, source: SchemaSource
) -> FieldMapping:
    draft = MappingDraft(body.object_type, body.hubspot_property, body.accelo_field, body.direction, body.value_map)
    _check_mapping(session, workspace, draft, source, None, enabled=body.enabled)
    mapping = FieldMapping(workspace_id=workspace.id, builtin=False, **body.model_dump())
    try:
        with session.begin_nested():
            FieldMappingRepo(session, workspace.id).add(mapping)
    except IntegrityError:
        raise Conflict(
            f"{body.hubspot_property} is already mapped to {body.accelo_field} for {body.object_type}s",
            details={"field": "accelo_field", "fix": "edit the existing mapping instead"},
        ) from None
    return mapping


def update_field_mapping(
    session: Session, workspace: Workspace, mapping_id: uuid.UUID, body: FieldMappingUpdate, source: SchemaSource
) -> FieldMapping:
    mapping = get_field_mapping(session, workspace.id, mapping_id)
    changes = body.model_dump(exclude_unset=True)
    merged = {**{k: getattr(mapping, k) for k in ("direction", "value_map", "enabled")}, **changes}
    if merged["enabled"]:
        draft = MappingDraft(
            mapping.object_type,
            mapping.hubspot_property,
            mapping.accelo_field,
            merged["direction"],
            merged["value_map"],
        )
        _check_mapping(session, workspace, draft, source, mapping.id)
    for name, value in changes.items():
        setattr(mapping, name, value)
    session.flush()
    return mapping


def delete_field_mapping(session: Session, workspace_id: uuid.UUID, mapping_id: uuid.UUID) -> None:
    mapping = get_field_mapping(session, workspace_id, mapping_id)
    if mapping.builtin:
        raise Conflict(
            f"{mapping.hubspot_property} <-> {mapping.accelo_field} is a built-in mapping",
            details={"fix": "disable it instead (PATCH with enabled: false)"},
        )
    FieldMappingRepo(session, workspace_id).delete(mapping)


# -- status mappings ---------------------------------------------------------------------------------------


def status_maps(session: Session, workspace_id: uuid.UUID, object_type: str) -> StatusMaps:
    arrows = StatusMappingRepo(session, workspace_id).for_type(object_type)
    return StatusMaps(
        h2a={m.source_value: m.target_value for m in arrows if m.direction == "h2a"},
        a2h={m.source_value: m.target_value for m in arrows if m.direction == "a2h"},
    )


def _status_values(
    session: Session,
    workspace: Workspace,
    object_type: ObjectType,
    source: SchemaSource,
    max_age: timedelta = SCHEMA_MAX_AGE,
) -> tuple[str, list[str] | None, list[str] | None]:
    """The HubSpot status property and both systems' status values (None where a system is not connected)."""
    prop = options_of(workspace).status_property(object_type)
    hubspot_values = accelo_values = None
    if source.connected("hubspot"):
        fields = get_schema(session, workspace.id, "hubspot", object_type, source, max_age=max_age)
        spec = schema_by_name(fields).get(prop)
        if spec is None:
            raise ValidationFailed(
                f"HubSpot has no {object_type} property {prop!r} to hold statuses",
                details={"field": f"{object_type}_status_property", "fix": "choose an existing enumeration property"},
            )
        if not spec.options:
            raise ValidationFailed(
                f"HubSpot's {object_type} property {prop!r} has no options, so it cannot hold statuses",
                details={"field": f"{object_type}_status_property", "fix": "choose an existing enumeration property"},
            )
        hubspot_values = list(spec.options)
    if source.connected("accelo"):
        fields = get_schema(session, workspace.id, "accelo", object_type, source, max_age=max_age)
        spec = schema_by_name(fields).get("status")
        accelo_values = list(spec.options or []) if spec else []
    return prop, hubspot_values, accelo_values


def list_status_mappings(session: Session, workspace_id: uuid.UUID, object_type: str | None) -> Sequence[StatusMapping]:
    return StatusMappingRepo(session, workspace_id).for_type(object_type)


def status_summary(
    session: Session, workspace: Workspace, object_type: ObjectType, source: SchemaSource
) -> StatusMapSummary:
    prop, hubspot_values, accelo_values = _status_values(session, workspace, object_type, source)
    maps = status_maps(session, workspace.id, object_type)
    warnings = (
        status_map_warnings(maps, hubspot_values, accelo_values, hubspot_property=prop, object_type=object_type)
        if hubspot_values is not None and accelo_values is not None
        else []
    )
    return StatusMapSummary(
        object_type=object_type, hubspot_property=prop, h2a=dict(maps.h2a), a2h=dict(maps.a2h), warnings=warnings
    )


def _check_status_values(
    session: Session,
    workspace: Workspace,
    object_type: ObjectType,
    direction: str,
    source_value: str,
    target_value: str,
    source: SchemaSource,
) -> None:
    _recheck_before_refusing(
        lambda max_age: _refuse_unknown_statuses(
            *_status_values(session, workspace, object_type, source, max_age),
            object_type=object_type,
            direction=direction,
            source_value=source_value,
            target_value=target_value,
        )
    )


def _refuse_unknown_statuses(
    prop: str,
    hubspot_values: list[str] | None,
    accelo_values: list[str] | None,
    *,
    object_type: ObjectType,
    direction: str,
    source_value: str,
    target_value: str,
) -> None:
    hubspot_value, accelo_value = (source_value, target_value) if direction == "h2a" else (target_value, source_value)
    problems = []
    if hubspot_values is not None and hubspot_value not in hubspot_values:
        problems.append(
            {
                "field": "source_value" if direction == "h2a" else "target_value",
                "message": f"{hubspot_value!r} is not a value of HubSpot's {prop}",
                "fix": f"use one of: {', '.join(hubspot_values[:20])}",
            }
        )
    if accelo_values is not None and accelo_value not in accelo_values:
        problems.append(
            {
                "field": "target_value" if direction == "h2a" else "source_value",
                "message": f"{accelo_value!r} is not an Accelo {object_type} status",
                "fix": f"use one of: {', '.join(accelo_values[:20])}",
            }
        )
    if problems:
        raise ValidationFailed(f"{problems[0]['message']} — fix: {problems[0]['fix']}", details=problems)


def create_status_mapping(
    session: Session, workspace: Workspace, body: StatusMappingCreate, source: SchemaSource
) -> StatusMapping:
    repository = StatusMappingRepo(session, workspace.id)
    if repository.find(body.object_type, body.direction, body.source_value) is not None:
        raise Conflict(
            f"{body.source_value!r} is already mapped ({body.direction}) for {body.object_type}s",
            details={"field": "source_value", "fix": "edit that mapping's target instead"},
        )
    _check_status_values(
        session, workspace, body.object_type, body.direction, body.source_value, body.target_value, source
    )
    return repository.add(StatusMapping(workspace_id=workspace.id, **body.model_dump()))


def get_status_mapping(session: Session, workspace_id: uuid.UUID, mapping_id: uuid.UUID) -> StatusMapping:
    mapping = StatusMappingRepo(session, workspace_id).get(mapping_id)
    if mapping is None:
        raise NotFound(f"status mapping {mapping_id} not found")
    return mapping


def update_status_mapping(
    session: Session, workspace: Workspace, mapping_id: uuid.UUID, target_value: str, source: SchemaSource
) -> StatusMapping:
    mapping = get_status_mapping(session, workspace.id, mapping_id)
    _check_status_values(
        session,
        workspace,
        ObjectType(mapping.object_type),
        mapping.direction,
        mapping.source_value,
        target_value,
        source,
    )
    mapping.target_value = target_value
    session.flush()
    return mapping


def delete_status_mapping(session: Session, workspace_id: uuid.UUID, mapping_id: uuid.UUID) -> None:
    StatusMappingRepo(session, workspace_id).delete(get_status_mapping(session, workspace_id, mapping_id))


# -- sync rules --------------------------------------------------------------------------------------------


def rule_read(rule: SyncRule) -> SyncRuleRead:
    return SyncRuleRead(
        id=rule.id,
        object_type=rule.object_type,
        direction=rule.direction,
        condition=rule.condition,
        enabled=rule.enabled,
        updated_at=rule.updated_at,
    )


def rule_slots(session: Session, workspace_id: uuid.UUID) -> list[SyncRuleSlot]:
    """Every object type and direction, saying plainly what happens where no rule is set."""
    rules = {(rule.object_type, rule.direction): rule for rule in SyncRuleRepo(session, workspace_id).list_all()}
    slots = []
    for object_type in ObjectType:
        records = PLURAL[object_type]
        for direction, (origin, target) in {"pull": ("HubSpot", "Accelo"), "push": ("Accelo", "HubSpot")}.items():
            rule = rules.get((object_type.value, direction))
            if rule is None or not rule.enabled:
                effect = (
                    f"no {'enabled ' if rule else ''}rule: no {records} are created in {target} automatically; "
                    f"linked {records} still sync both ways"
                )
            else:
                effect = f"{origin} {records} that match the rule are created in {target}"
            slots.append(
                SyncRuleSlot(object_type=object_type, direction=direction, rule=rule and rule_read(rule), effect=effect)
            )
    return slots


def _check_rule(
    session: Session,
    workspace_id: uuid.UUID,
    object_type: ObjectType,
    direction: str,
    condition: Condition,
    source: SchemaSource,
) -> None:
    def check(max_age: timedelta) -> None:
        fields = get_schema(session, workspace_id, RULE_SOURCE[direction], object_type, source, max_age=max_age)
        try:
            validate_rule(condition, schema_by_name(fields))
        except RuleProblem as problem:
            raise ValidationFailed(
                f"this rule cannot be saved: {problem} — fix: {problem.fix}",
                details=[{"field": f"condition.{problem.path}", "message": problem.message, "fix": problem.fix}],
            ) from None

    _recheck_before_refusing(check)


def create_rule(session: Session, workspace: Workspace, body: SyncRuleCreate, source: SchemaSource) -> SyncRule:
    repository = SyncRuleRepo(session, workspace.id)
    if repository.find(body.object_type, body.direction) is not None:
        raise Conflict(
            f"a {body.direction} rule for {body.object_type}s exists already",
            details={"fix": "edit it (one condition tree per object type and direction)"},
        )
    _check_rule(session, workspace.id, body.object_type, body.direction, body.condition, source)
    condition = body.condition.model_dump(mode="json", by_alias=True, exclude_none=True)
    return repository.add(
        SyncRule(
            workspace_id=workspace.id,
            object_type=body.object_type,
            direction=body.direction,
            condition=condition,
            enabled=body.enabled,
        )
    )


def get_rule(session: Session, workspace_id: uuid.UUID, rule_id: uuid.UUID) -> SyncRule:
    rule = SyncRuleRepo(session, workspace_id).get(rule_id)
    if rule is None:
        raise NotFound(f"sync rule {rule_id} not found")
    return rule


def update_rule(
    session: Session, workspace: Workspace, rule_id: uuid.UUID, body: SyncRuleUpdate, source: SchemaSource
) -> SyncRule:
    rule = get_rule(session, workspace.id, rule_id)
    if body.condition is not None:
        _check_rule(session, workspace.id, ObjectType(rule.object_type), rule.direction, body.condition, source)
        rule.condition = body.condition.model_dump(mode="json", by_alias=True, exclude_none=True)
    if body.enabled is not None:
        rule.enabled = body.enabled
    session.flush()
    return rule


def delete_rule(session: Session, workspace_id: uuid.UUID, rule_id: uuid.UUID) -> None:
    SyncRuleRepo(session, workspace_id).delete(get_rule(session, workspace_id, rule_id))


def active_rule(session: Session, workspace_id: uuid.UUID, object_type: str, direction: str) -> Condition | None:
    rule = SyncRuleRepo(session, workspace_id).find(object_type, direction)
    return condition_adapter.validate_python(rule.condition) if rule is not None and rule.enabled else None


def canonical_record(
    system: System, raw: dict[str, Any], schema: dict[str, FieldSpec], *, strict: bool = False
) -> dict[str, Canonical]:
    """A source record's values in canonical form. A value that cannot be read is left out (reads as unset),
    as the sync engine reads it; ``strict`` (a record typed in by a person) refuses it instead."""
    decode = decode_hubspot if system == "hubspot" else decode_accelo
    values: dict[str, Canonical] = {}
    problems = []
    for name, value in raw.items():
        spec = schema.get(name)
        if spec is None:
            continue
        try:
            values[name] = decode(spec.type, value)
        except InvalidValue as exc:
            vendor = "HubSpot" if system == "hubspot" else "Accelo"
            fix = f"give a {spec.type} value as {vendor} sends it"
            problems.append({"field": f"record.{name}", "message": str(exc), "fix": fix})
    if strict and problems:
        first = problems[0]
        raise ValidationFailed(
            f"the record cannot be read: {first['field']}: {first['message']} — fix: {first['fix']}", details=problems
        )
    return values


def evaluate_rule(
    session: Session, workspace: Workspace, body: EvaluateRequest, source: SchemaSource
) -> EvaluateResponse:
    system = RULE_SOURCE[body.direction]
    schema = schema_by_name(get_schema(session, workspace.id, system, body.object_type, source))
    if body.record_id is not None:
        raw = source.fetch_record(system, body.object_type, body.record_id, list(schema))
    else:
        raw = body.record or {}
    values = canonical_record(system, raw, schema, strict=body.record is not None)
    condition = active_rule(session, workspace.id, body.object_type, body.direction)
    result = evaluate(condition, values, schema, object_type=body.object_type, direction=body.direction)
    if condition is None and SyncRuleRepo(session, workspace.id).find(body.object_type, body.direction):
        reason = f"the {body.object_type} {body.direction} rule is switched off: nothing is created automatically"
        result = replace(result, reason=reason)
    return EvaluateResponse(
        matched=result.matched, reason=result.reason, failing_leaf=result.failing_leaf, path=result.path, values=values
    )
