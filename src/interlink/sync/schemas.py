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
    next_attempt_at: datetime | None = Field(description="When a failing record is tried again (None: not queued)")
    last_synced_at: datetime | None
    created_at: datetime
    updated_at: datetime


class FieldStateRead(BaseModel):
    key: str = Field(description="hubspot_property|accelo_field, or 'status'")
    hubspot_property: str | None
    accelo_field: str | None
    agreed_value: Any = Field(description="What both sides held at the last sync")
    state: str = Field(
        description="in_sync, review (held for a person), paused (flipped too often; the link shows as paused)"
    )
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


class LinkSummary(BaseModel):
    counts: dict[str, int] = Field(description="Records by link state")
    flagged: int = Field(description="Records in the review queue (waiting for a person)")


class ResolveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str = Field(description="The held field's key (hubspot_property|accelo_field, as in the link's fields)")
    keep: Literal["hubspot", "accelo"] = Field(description="Whose value wins; it is written to the other system")


class LinkByHandRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hubspot_id: str | None = Field(default=None, description="The HubSpot record to pair an Accelo record with")
    accelo_id: str | None = Field(default=None, description="The Accelo record to pair a HubSpot record with")
    prefer: Literal["hubspot", "accelo"] | None = Field(
        default=None, description="Whose values win where the two differ (default: the record that was waiting)"
    )
