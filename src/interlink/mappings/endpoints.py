from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status

from interlink.connections.registry import connectors_for
from interlink.deps import SessionDep, WorkspaceDep
from interlink.mappings import service
from interlink.mappings.fields import FieldSpec, ObjectType, System
from interlink.mappings.live import LiveSchemaSource
from interlink.mappings.schema_source import SchemaSource, get_schema
from interlink.mappings.schemas import (
    EvaluateRequest,
    EvaluateResponse,
    FieldMappingCreate,
    FieldMappingRead,
    FieldMappingUpdate,
    StatusMappingCreate,
    StatusMappingRead,
    StatusMappingUpdate,
    StatusMapSummary,
    SyncRuleCreate,
    SyncRuleRead,
    SyncRuleSlot,
    SyncRuleUpdate,
)

router = APIRouter(tags=["mappings"])


def schema_source(request: Request, session: SessionDep, workspace: WorkspaceDep) -> SchemaSource:
    return LiveSchemaSource.for_workspace(session, workspace, connectors_for(request.app.state.db))


SourceDep = Annotated[SchemaSource, Depends(schema_source)]
ObjectTypeQuery = Annotated[ObjectType | None, Query(description="Only this object type")]


@router.get("/schema/{system}/{object_type}", summary="Both UIs' field lists: a system's live fields for a type")
def get_fields(
    system: System,
    object_type: ObjectType,
    workspace: WorkspaceDep,
    session: SessionDep,
    source: SourceDep,
    refresh: bool = False,
) -> list[FieldSpec]:
    return get_schema(session, workspace.id, system, object_type, source, refresh=refresh)


# -- field mappings ----------------------------------------------------------------------------------------


@router.get("/field-mappings", summary="Field mappings, built-in ones first")
def list_field_mappings(
    workspace: WorkspaceDep, session: SessionDep, object_type: ObjectTypeQuery = None
) -> list[FieldMappingRead]:
    return [FieldMappingRead.model_validate(m) for m in service.list_field_mappings(session, workspace.id, object_type)]


@router.post(
    "/field-mappings", status_code=status.HTTP_201_CREATED, summary="Map a HubSpot property to an Accelo field"
)
def create_field_mapping(
    body: FieldMappingCreate, workspace: WorkspaceDep, session: SessionDep, source: SourceDep
) -> FieldMappingRead:
    return FieldMappingRead.model_validate(service.create_field_mapping(session, workspace, body, source))


@router.get("/field-mappings/{mapping_id}", summary="One field mapping")
def get_field_mapping(mapping_id: uuid.UUID, workspace: WorkspaceDep, session: SessionDep) -> FieldMappingRead:
    return FieldMappingRead.model_validate(service.get_field_mapping(session, workspace.id, mapping_id))


@router.patch("/field-mappings/{mapping_id}", summary="Change direction, conflict policy, value map or enabled")
def update_field_mapping(
    mapping_id: uuid.UUID, body: FieldMappingUpdate, workspace: WorkspaceDep, session: SessionDep, source: SourceDep
) -> FieldMappingRead:
    return FieldMappingRead.model_validate(service.update_field_mapping(session, workspace, mapping_id, body, source))


@router.delete("/field-mappings/{mapping_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Remove a mapping")
def delete_field_mapping(mapping_id: uuid.UUID, workspace: WorkspaceDep, session: SessionDep) -> None:
    service.delete_field_mapping(session, workspace.id, mapping_id)


# -- status mappings ---------------------------------------------------------------------------------------


@router.get("/status-mappings", summary="Both many-to-one status maps, one arrow per row")
def list_status_mappings(
    workspace: WorkspaceDep, session: SessionDep, object_type: ObjectTypeQuery = None
) -> list[StatusMappingRead]:
    return [
        StatusMappingRead.model_validate(m) for m in service.list_status_mappings(session, workspace.id, object_type)
    ]


@router.get("/status-mappings/{object_type}/summary", summary="The two maps side by side, with consistency warnings")
def status_summary(
    object_type: ObjectType, workspace: WorkspaceDep, session: SessionDep, source: SourceDep
) -> StatusMapSummary:
    return service.status_summary(session, workspace, object_type, source)


@router.post("/status-mappings", status_code=status.HTTP_201_CREATED, summary="Add an arrow to a status map")
def create_status_mapping(
    body: StatusMappingCreate, workspace: WorkspaceDep, session: SessionDep, source: SourceDep
) -> StatusMappingRead:
    return StatusMappingRead.model_validate(service.create_status_mapping(session, workspace, body, source))


@router.get("/status-mappings/{mapping_id}", summary="One arrow")
def get_status_mapping(mapping_id: uuid.UUID, workspace: WorkspaceDep, session: SessionDep) -> StatusMappingRead:
    return StatusMappingRead.model_validate(service.get_status_mapping(session, workspace.id, mapping_id))


@router.patch("/status-mappings/{mapping_id}", summary="Point an arrow at another value")
def update_status_mapping(
    mapping_id: uuid.UUID, body: StatusMappingUpdate, workspace: WorkspaceDep, session: SessionDep, source: SourceDep
) -> StatusMappingRead:
    mapping = service.update_status_mapping(session, workspace, mapping_id, body.target_value, source)
    return StatusMappingRead.model_validate(mapping)


@router.delete("/status-mappings/{mapping_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Remove an arrow")
def delete_status_mapping(mapping_id: uuid.UUID, workspace: WorkspaceDep, session: SessionDep) -> None:
    service.delete_status_mapping(session, workspace.id, mapping_id)


# -- sync rules --------------------------------------------------------------------------------------------


@router.get("/sync-rules", summary="The rule for each object type and direction, and what happens without one")
def list_rules(workspace: WorkspaceDep, session: SessionDep) -> list[SyncRuleSlot]:
    return service.rule_slots(session, workspace.id)


@router.post("/sync-rules", status_code=status.HTTP_201_CREATED, summary="Set the rule for a type and direction")
def create_rule(body: SyncRuleCreate, workspace: WorkspaceDep, session: SessionDep, source: SourceDep) -> SyncRuleRead:
    return service.rule_read(service.create_rule(session, workspace, body, source))


@router.post("/sync-rules/evaluate", summary="Try the rule on a record (given, or fetched live by id)")
def evaluate_rule(
    body: EvaluateRequest, workspace: WorkspaceDep, session: SessionDep, source: SourceDep
) -> EvaluateResponse:
    return service.evaluate_rule(session, workspace, body, source)


@router.get("/sync-rules/{rule_id}", summary="One rule")
def get_rule(rule_id: uuid.UUID, workspace: WorkspaceDep, session: SessionDep) -> SyncRuleRead:
    return service.rule_read(service.get_rule(session, workspace.id, rule_id))


@router.patch("/sync-rules/{rule_id}", summary="Change a rule's condition or switch it off")
def update_rule(
    rule_id: uuid.UUID, body: SyncRuleUpdate, workspace: WorkspaceDep, session: SessionDep, source: SourceDep
) -> SyncRuleRead:
    return service.rule_read(service.update_rule(session, workspace, rule_id, body, source))


@router.delete("/sync-rules/{rule_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Remove a rule")
def delete_rule(rule_id: uuid.UUID, workspace: WorkspaceDep, session: SessionDep) -> None:
    service.delete_rule(session, workspace.id, rule_id)
