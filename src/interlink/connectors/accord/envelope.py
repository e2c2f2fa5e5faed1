"""Interlink's Accord event envelope (Accord publishes no webhook format, so this one is ours).

    {
      "event_id": "evt_7f3c2a",                   unique per event; a redelivery reuses it and is dropped
      "trigger": "step.updated",                  what happened in Accord (TRIGGERS)
      "occurred_at": "2026-11-22T09:30:00Z",      ISO-8601 with a zone; the newest event of an Accord wins
      "accord": {
        "id": "f1e2d3c4-b5a6-4789-0123-456789abcdef",
        "url": "https://app.inaccord.com/accords/f1e2d3c4",
        "status": "On Track",                     Not Started | On Track | At Risk | Stalled
        "current_stage": "Technical validation",  null when the Accord has no stage yet
        "customers_invited": 4,                   whole number >= 0
        "customers_accepted": 3,                  whole number >= 0, at most customers_invited
        "progress": 45,                           0-100
        "execution_score": 82.5,                  a number, or null when Accord has not scored it yet
        "hubspot_deal_id": "9876543210"           required until the Accord is linked; may be left out after
      }
    }

Every key of ``accord`` except ``hubspot_deal_id`` must be present (``null`` where allowed), so an omitted
value is an error instead of a silent clear. Unknown keys are ignored, so senders may add their own.
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

MAX_BODY_BYTES = 64 * 1024
MAX_CLOCK_SKEW = timedelta(minutes=5)


class Trigger(StrEnum):
    """The events on which Accord pushes fresh data to the deal (its HubSpot guide's list)."""

    accord_viewed = "accord.viewed"
    accord_created = "accord.created"
    accord_duplicated = "accord.duplicated"
    stage_created = "stage.created"
    stage_deleted = "stage.deleted"
    step_created = "step.created"
    step_deleted = "step.deleted"
    step_updated = "step.updated"
    stakeholder_added = "stakeholder.added"
    customer_accepted = "customer.accepted"
    member_added = "member.added"
    member_invited = "member.invited"


class AccordStatus(StrEnum):
    not_started = "Not Started"
    on_track = "On Track"
    at_risk = "At Risk"
    stalled = "Stalled"


_STATUS_BY_KEY = {re.sub(r"[\s_-]+", "", status.value.lower()): status for status in AccordStatus}
ACCORD_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,59}$")
_DEAL_ID = re.compile(r"^[1-9][0-9]{0,19}$")

Count = Annotated[int, Field(strict=True, ge=0, le=1_000_000)]


class AccordState(BaseModel):
    """One Accord as the event describes it: the seven values pushed to the deal, and the deal."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: Annotated[str, Field(min_length=1, max_length=60)]
    url: Annotated[str, Field(min_length=1, max_length=2048)]
    status: AccordStatus
    current_stage: Annotated[str | None, Field(max_length=1000)]
    customers_invited: Count
    customers_accepted: Count
    progress: Annotated[float, Field(strict=True, ge=0, le=100, allow_inf_nan=False)]
    execution_score: Annotated[float | None, Field(strict=True, allow_inf_nan=False)]
    hubspot_deal_id: str | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _accord_id(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            if value and not ACCORD_ID_PATTERN.match(value):
                raise ValueError("must be letters, digits and . _ : - (at most 60)")
        return value

    @field_validator("url", mode="before")
    @classmethod
    def _url(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            parts = urlsplit(value)
            if parts.scheme not in {"http", "https"} or not parts.netloc or any(c.isspace() for c in value):
                raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, value: Any) -> Any:
        if isinstance(value, str):
            found = _STATUS_BY_KEY.get(re.sub(r"[\s_-]+", "", value.lower()))
            if found is None:
                allowed = ", ".join(status.value for status in AccordStatus)
                raise ValueError(f"must be one of {allowed} (got {value!r})")
            return found
        return value

    @field_validator("current_stage", mode="before")
    @classmethod
    def _stage(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = " ".join(value.split())
            return value or None
        return value

    @field_validator("hubspot_deal_id", mode="before")
    @classmethod
    def _deal_id(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("must be a HubSpot deal id (digits)")
        if isinstance(value, int):
            value = str(value)
        if isinstance(value, str):
            value = value.strip()
            if value == "":
                return None
            if not _DEAL_ID.match(value):
                raise ValueError("must be a HubSpot deal id (digits)")
        return value

    @model_validator(mode="after")
    def _accepted_within_invited(self) -> AccordState:
        if self.customers_accepted > self.customers_invited:
            raise ValueError(
                f"customers_accepted ({self.customers_accepted}) cannot exceed customers_invited "
                f"({self.customers_invited})"
            )
        return self


class AccordEnvelope(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    event_id: Annotated[str, Field(min_length=1, max_length=100)]
    trigger: Trigger
    occurred_at: AwareDatetime
    accord: AccordState

    @field_validator("event_id", mode="before")
    @classmethod
    def _event_id(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            if not value.isprintable():
                raise ValueError("must be printable text")
        return value

    @field_validator("trigger", mode="before")
    @classmethod
    def _trigger(cls, value: Any) -> Any:
        if isinstance(value, str) and value not in {trigger.value for trigger in Trigger}:
            raise ValueError(f"must be one of {', '.join(trigger.value for trigger in Trigger)} (got {value!r})")
        return value


class MalformedEnvelope(Exception):
    """The body is not a JSON object at all (400)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidEnvelope(Exception):
    """The JSON parses but a value cannot be accepted (422); ``problems`` name each field."""

    def __init__(self, problems: list[dict[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{problem['field']}: {problem['message']}" for problem in problems[:5]))


def _field_name(location: tuple[int | str, ...], message: str) -> str:
    field = ".".join(str(part) for part in location) or "body"
    if field == "accord" and "customers_accepted" in message:
        return "accord.customers_accepted"  # the cross-field check names the field that is wrong
    return field


def _message(error: Any) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "missing":
        return "is required"
    if error["type"] == "int_type":
        return "must be a whole number"
    if error["type"] in {"float_type", "finite_number"}:
        return "must be a finite number"
    return message


def parse_envelope(body: bytes, *, now: datetime) -> AccordEnvelope:
    """Parse and check one event; ``MalformedEnvelope`` (400) or ``InvalidEnvelope`` (422) otherwise."""
    try:
        data = json.loads(body, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedEnvelope(f"the body is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise MalformedEnvelope("the body must be a JSON object (an Accord event envelope)")
    try:
        envelope = AccordEnvelope.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            message = _message(error)
            problems.append({"field": _field_name(error["loc"], message), "message": message, "type": error["type"]})
        raise InvalidEnvelope(problems) from None
    if envelope.occurred_at - now > MAX_CLOCK_SKEW:
        # An event from the future would win over every real event after it, until that time came.
        raise InvalidEnvelope(
            [{"field": "occurred_at", "message": "is more than 5 minutes in the future", "type": "future"}]
        )
    return envelope


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def canonical_number(value: float | int | None) -> str | None:
    """How a number is written to HubSpot: ``45`` rather than ``45.0``; stable, so equal values compare equal."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer() and math.isfinite(value):
        return str(int(value))
    return repr(float(value)) if isinstance(value, float) else str(value)
