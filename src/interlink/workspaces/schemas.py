from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ConflictPolicy = Literal["hubspot_wins", "accelo_wins", "latest", "review"]


class WorkspaceOptions(BaseModel):
    """Per-workspace switches; stored as JSON on the workspace row."""

    model_config = ConfigDict(extra="forbid")

    allow_lifecycle_backward: bool = Field(
        default=False,
        description="Move HubSpot lifecyclestage backwards (clear, then set) when a status map says so",
    )
    delete_twin_on_delete: bool = Field(
        default=False,
        description="When a record is deleted in one system, delete its twin (default: flag the link)",
    )
    allow_blank_match_key: bool = Field(
        default=False,
        description="Create records whose match key (email, domain/name) is blank instead of skipping",
    )
    contact_status_property: str = Field(
        default="lifecyclestage", description="The HubSpot property that holds a contact's status"
    )
    company_status_property: str = Field(
        default="lifecyclestage", description="The HubSpot property that holds a company's status"
    )
    status_conflict_policy: ConflictPolicy = Field(
        default="latest", description="Who wins when both sides changed a status since the last sync"
    )

    def status_property(self, object_type: str) -> str:
        return self.contact_status_property if object_type == "contact" else self.company_status_property


class WorkspaceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    slug: str
    name: str
    options: WorkspaceOptions
    created_at: datetime


class WorkspaceOptionsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    allow_lifecycle_backward: bool | None = None
    delete_twin_on_delete: bool | None = None
    allow_blank_match_key: bool | None = None
    contact_status_property: str | None = None
    company_status_property: str | None = None
    status_conflict_policy: ConflictPolicy | None = None


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)


class TokenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    prefix: str = Field(description="The first characters of the token, to tell tokens apart")
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenRead):
    token: str = Field(description="The bearer token. Shown once: only its hash is stored.")
