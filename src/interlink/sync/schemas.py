from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

LinkStateName = Literal["in_sync", "needs_review", "failed", "paused", "waiting", "closed"]


class LinkRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    object_type: str
    hubspot_id: str | None
    accelo_id: str | None
    state: str
    state_reason: str | None
    flagged: bool
    matched_by: str | None
    attempts: int
    last_error: str | None
    last_synced_at: datetime | None
    created_at: datetime
    updated_at: datetime


class FieldStateRead(BaseModel):
    key: str = Field(description="hubspot_property|accelo_field, or 'status'")
    hubspot_property: str | None
    accelo_field: str | None
    agreed_value: Any = Field(description="What both sides held at the last sync")
    state: str = Field(description="in_sync, review (held for a person), paused (oscillating)")
    reason: str | None = None
    hubspot_value: Any = None
    accelo_value: Any = None


class LinkDetail(LinkRead):
    fields: list[FieldStateRead]


class LedgerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime
    action: str
    object_type: str | None
    hubspot_id: str | None
    accelo_id: str | None
    field: str | None
    direction: str | None
    old_value: Any
    new_value: Any
    reason: str | None
    details: dict[str, Any]
    event_ids: list[Any]
    job_id: uuid.UUID | None


class ResyncRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prefer: Literal["hubspot", "accelo"] | None = Field(
        default=None,
        description="Forget what the two sides last agreed on and let this side win every difference "
        "(default: keep the agreed values and reconcile as usual)",
    )


class ActionResult(BaseModel):
    link: LinkRead
    queued_events: int
