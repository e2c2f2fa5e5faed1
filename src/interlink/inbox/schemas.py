from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

EventStatus = Literal["pending", "processing", "done", "ignored", "failed"]


class EventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    source: str
    kind: str
    object_type: str | None
    object_id: str | None
    status: str
    attempts: int
    received_at: datetime
    occurred_at: datetime | None
    next_attempt_at: datetime
    processed_at: datetime | None
    last_error: str | None


class EventDetail(EventRead):
    payload: dict[str, Any]


class InboxSummary(BaseModel):
    counts: dict[str, int]
    oldest_pending_age_seconds: float | None


class MinuteActivity(BaseModel):
    minute: datetime
    received: int
    longest_wait_seconds: float | None


class InboxActivity(BaseModel):
    minutes: list[MinuteActivity]
    pending: int
    oldest_pending_age_seconds: float | None
