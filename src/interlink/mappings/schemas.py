from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from interlink.mappings.fields import ObjectType
from interlink.mappings.rules import Condition, Leaf

Direction = Literal["both", "to_accelo", "to_hubspot"]
ConflictPolicy = Literal["hubspot_wins", "accelo_wins", "latest", "review"]
StatusDirection = Literal["h2a", "a2h"]
RuleDirection = Literal["pull", "push"]


class FieldMappingCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    object_type: ObjectType
    hubspot_property: str = Field(min_length=1, max_length=200)
    accelo_field: str = Field(min_length=1, max_length=200)
    direction: Direction = "both"
    conflict_policy: ConflictPolicy = "latest"
    value_map: dict[str, str] | None = Field(default=None, description="HubSpot option value -> Accelo option")
    enabled: bool = True


class FieldMappingUpdate(BaseModel):
    """Only the fields given change; ``value_map: null`` removes the value map."""

    model_config = ConfigDict(extra="forbid")

    direction: Direction | None = None
    conflict_policy: ConflictPolicy | None = None
    value_map: dict[str, str] | None = None
    enabled: bool | None = None

    @field_validator("direction", "conflict_policy", "enabled")
    @classmethod
    def _not_null(cls, value: object) -> object:
        # Only an explicit null reaches here (defaults are not validated): these settings always have a value.
        if value is None:
            raise ValueError("cannot be null; leave it out to keep the current value")
        return value


class FieldMappingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    object_type: str
    hubspot_property: str
    accelo_field: str
    direction: str
    conflict_policy: str
    value_map: dict[str, str] | None
    builtin: bool
    enabled: bool
    created_at: datetime
    updated_at: datetime


class StatusMappingCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    object_type: ObjectType
    direction: StatusDirection = Field(description="h2a: HubSpot value -> Accelo status; a2h: the reverse")
    source_value: str = Field(min_length=1, max_length=200)
    target_value: str = Field(min_length=1, max_length=200)


class StatusMappingUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target_value: str = Field(min_length=1, max_length=200)


class StatusMappingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    object_type: str
    direction: str
    source_value: str
    target_value: str


class StatusMapSummary(BaseModel):
    object_type: str
    hubspot_property: str
    h2a: dict[str, str]
    a2h: dict[str, str]
    warnings: list[str] = Field(description="Values that can never be consistent (needs both systems connected)")


class SyncRuleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    object_type: ObjectType
    direction: RuleDirection = Field(description="pull: HubSpot -> Accelo; push: Accelo -> HubSpot")
    condition: Condition
    enabled: bool = True


class SyncRuleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    condition: Condition | None = None
    enabled: bool | None = None


class SyncRuleRead(BaseModel):
    id: uuid.UUID
    object_type: str
    direction: str
    condition: dict[str, Any]
    enabled: bool
    updated_at: datetime


class SyncRuleSlot(BaseModel):
    object_type: str
    direction: str
    rule: SyncRuleRead | None
    effect: str


class EvaluateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    object_type: ObjectType
    direction: RuleDirection
    record: dict[str, Any] | None = Field(default=None, description="Field values as the source system sends them")
    record_id: str | None = Field(default=None, description="Or: a record id, fetched live from the source system")

    @model_validator(mode="after")
    def _one_source(self) -> EvaluateRequest:
        if (self.record is None) == (self.record_id is None):
            raise ValueError("give exactly one of 'record' or 'record_id'")
        return self


class EvaluateResponse(BaseModel):
    matched: bool
    reason: str
    failing_leaf: Leaf | None
    path: str | None
    values: dict[str, Any] = Field(description="The record's values as the rule saw them (canonical)")
