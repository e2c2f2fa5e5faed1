from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

_DEAL_ID = re.compile(r"^[1-9][0-9]{0,19}$")
PROPERTY_NAME = re.compile(r"^[a-z][a-z0-9_]{0,99}$")


class IntakeAck(BaseModel):
    """The answer to an accepted event: it is stored; the push happens after."""

    status: Literal["accepted", "duplicate"]
    event_id: str
    accord_id: str


class AccordLinkRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    accord_id: str
    deal_id: str | None = Field(description="The deal Accord data is pushed to; null until one is linked")
    requested_deal_id: str | None = Field(description="A deal Accord asked for that needs an admin's relink")
    linked_by: str = Field(description="event (from an Accord event), api (set through this API) or merge")
    flagged: bool = Field(description="Pushes are held until a person resolves flag_reason")
    flag_reason: str | None = Field(description="deal_mismatch, deal_taken or deal_missing")
    flag_detail: str | None
    flagged_at: datetime | None
    snapshot: dict[str, Any] = Field(description="The newest Accord data received, by envelope key")
    snapshot_at: datetime | None = Field(description="When the snapshot's event occurred")
    snapshot_trigger: str | None
    pushed: dict[str, Any] = Field(description="The value last written to each deal property, by internal name")
    last_pushed_at: datetime | None
    created_at: datetime
    updated_at: datetime


class LinkRequest(BaseModel):
    """Link an Accord to a deal, or move it to another deal (relinking is always this explicit call)."""

    model_config = ConfigDict(extra="forbid")

    deal_id: str = Field(description="The HubSpot deal id")

    @field_validator("deal_id", mode="before")
    @classmethod
    def _digits(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str):
            value = value.strip()
            if not _DEAL_ID.match(value):
                raise ValueError("must be a HubSpot deal id (digits)")
        return value


class PushRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    force: bool = Field(
        default=False,
        description="Write every property again, even those unchanged since the last push (e.g. after someone "
        "edited them in HubSpot by hand)",
    )


class PushQueued(BaseModel):
    link: AccordLinkRead
    queued: bool = Field(description="False when there is no Accord data to push yet")


PropertyName = Annotated[str | None, Field(default=None, description="A deal property's internal name")]


class PropertyNamesInput(BaseModel):
    """The internal names of the deal properties; a key left out uses its default name."""

    model_config = ConfigDict(extra="forbid")

    url: PropertyName = None
    status: PropertyName = None
    current_stage: PropertyName = None
    customers_invited: PropertyName = None
    customers_accepted: PropertyName = None
    progress: PropertyName = None
    execution_score: PropertyName = None

    @field_validator("*", mode="before")
    @classmethod
    def _internal_name(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            if not PROPERTY_NAME.match(value):
                raise ValueError("must be a HubSpot internal name: lowercase letters, digits and underscores")
        return value


class PropertyCheck(BaseModel):
    key: str
    name: str
    label: str
    type: str
    field_type: str
    status: Literal["created", "exists", "clash", "error"]
    message: str | None = None
    differences: dict[str, list[Any]] = Field(
        default_factory=dict, description="What makes an existing property unusable: field -> [existing, needed]"
    )
    cosmetic: dict[str, list[Any]] = Field(
        default_factory=dict, description="Harmless differences (label, group, description), left as they are"
    )


class GroupCheck(BaseModel):
    name: str
    label: str
    status: Literal["created", "exists", "clash", "error"]
    message: str | None = None
    cosmetic: dict[str, list[Any]] = Field(default_factory=dict)


class ProvisionReport(BaseModel):
    group: GroupCheck
    properties: list[PropertyCheck]
    provisioned_at: datetime

    @property
    def problems(self) -> list[PropertyCheck | GroupCheck]:
        checks: list[PropertyCheck | GroupCheck] = [self.group, *self.properties]
        return [check for check in checks if check.status in {"clash", "error"}]

    @property
    def ok(self) -> bool:
        return not self.problems


class PropertySettingsRead(BaseModel):
    names: dict[str, str] = Field(description="The internal name used for each key")
    defaults: dict[str, str]
    group: str
    provisioned_at: datetime | None
    last_provision: ProvisionReport | None
