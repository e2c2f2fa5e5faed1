"""Accelo's records as typed, immutable models, converted from its string-typed wire format at the edge.

A linked object arrives either as an id (``"status": "3"``) or, when asked for with ``_fields=status()``, as
the object itself. Every model splits it into ``status_id`` (always set when the link was asked for) and
``status`` (the object, only when it was expanded), so callers never test the shape.

Fields a caller asked for beyond these (``_fields=…``) are kept and readable through ``model_extra``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, model_validator

from interlink.connectors.accelo.values import (
    AcceloId,
    Flag,
    OptionalInt,
    Reference,
    Text,
    TextList,
    Timestamp,
    parse_decimal,
    parse_id,
    parse_text_list,
    parse_timestamp,
)

ObjectType = Literal["company", "contact", "affiliation"]
"""The record types Interlink syncs (Accelo's ``link_type`` / ``against_type`` names)."""

RESOURCE_PATHS: dict[ObjectType, str] = {
    "company": "companies",
    "contact": "contacts",
    "affiliation": "affiliations",
}


class AcceloModel(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    # wire name -> (id attribute, object attribute)
    wire_links: ClassVar[Mapping[str, tuple[str, str]]] = {}

    @model_validator(mode="before")
    @classmethod
    def _split_links(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not cls.wire_links:
            return data
        data = dict(data)
        for wire, (id_attribute, object_attribute) in cls.wire_links.items():
            if wire not in data:
                continue
            raw = data.pop(wire)
            if isinstance(raw, dict):
                data[object_attribute] = raw
                data[id_attribute] = raw.get("id")
            else:
                data[id_attribute] = raw
        return data


class Status(AcceloModel):
    """A company, contact or affiliation status. ``standing`` is the fixed category behind the name
    (active, inactive, prospect, paused, …)."""

    id: AcceloId
    title: Text = None
    standing: Text = None
    color: Text = None
    start: Flag = None  # may be used when creating a record
    ordering: OptionalInt = None


class Country(AcceloModel):
    id: AcceloId
    title: Text = None
    prefix: Text = None
    suffix: Text = None
    postcode_name: Text = None
    state_name: Text = None
    state_required: Flag = None
    postcode_required: Flag = None


class State(AcceloModel):
    wire_links = {"country_id": ("country_id", "country")}

    id: AcceloId
    title: Text = None
    abbreviation: Text = None
    country_id: Reference = None
    country: Country | None = None
    ordering: OptionalInt = None
    timezone: Text = None


class Address(AcceloModel):
    wire_links = {"state": ("state_id", "state"), "country": ("country_id", "country")}

    id: AcceloId
    title: Text = None
    full: Text = None
    street1: Text = None
    street2: Text = None
    city: Text = None
    zipcode: Text = None
    state_id: Reference = None
    state: State | None = None
    country_id: Reference = None
    country: Country | None = None
    postal: Flag = None
    physical: Flag = None
    short: Text = None


class StaffRef(AcceloModel):
    id: AcceloId
    firstname: Text = None
    surname: Text = None
    email: Text = None


class Company(AcceloModel):
    wire_links = {
        "status": ("status_id", "status"),
        "postal_address": ("postal_address_id", "postal_address"),
        "default_affiliation": ("default_affiliation_id", "default_affiliation"),
    }

    id: AcceloId
    name: Text = None
    custom_id: Text = None
    website: Text = None
    phone: Text = None
    fax: Text = None
    comments: Text = None
    standing: Text = None
    status_id: Reference = None
    status: Status | None = None
    postal_address_id: Reference = None
    postal_address: Address | None = None
    default_affiliation_id: Reference = None
    default_affiliation: Affiliation | None = None
    staff_bookmarked: Flag = None
    date_created: Timestamp = None
    date_modified: Timestamp = None
    date_last_interacted: Timestamp = None


class Contact(AcceloModel):
    """A person. Their email, phones and position live on an affiliation (``AffiliatedContact``); the
    contact's own ``email`` and ``mobile`` are deprecated by Accelo and kept only for reading."""

    wire_links = {
        "status": ("status_id", "status"),
        "default_affiliation": ("default_affiliation_id", "default_affiliation"),
    }

    id: AcceloId
    firstname: Text = None
    surname: Text = None
    middlename: Text = None
    username: Text = None
    title: Text = None
    timezone: Text = None
    comments: Text = None
    standing: Text = None
    status_id: Reference = None
    status: Status | None = None
    default_affiliation_id: Reference = None
    default_affiliation: Affiliation | None = None
    email: Text = None
    mobile: Text = None
    date_created: Timestamp = None
    date_modified: Timestamp = None
    date_last_interacted: Timestamp = None


class Affiliation(AcceloModel):
    """One contact's role at one company, holding the role's email, phones, position and addresses."""

    wire_links = {
        "company": ("company_id", "company"),
        "contact": ("contact_id", "contact"),
        "affiliation_status": ("status_id", "status"),
        "postal_address": ("postal_address_id", "postal_address"),
        "physical_address": ("physical_address_id", "physical_address"),
    }

    id: AcceloId
    company_id: Reference = None
    company: Company | None = None
    contact_id: Reference = None
    contact: Contact | None = None
    email: Text = None
    phone: Text = None
    mobile: Text = None
    fax: Text = None
    position: Text = None
    standing: Text = None
    status_id: Reference = None
    status: Status | None = None
    postal_address_id: Reference = None
    postal_address: Address | None = None
    physical_address_id: Reference = None
    physical_address: Address | None = None
    portal_access: Flag = None
    communication: Flag = None
    invoice_method: Text = None
    staff_bookmarked: Flag = None
    date_modified: Timestamp = None
    date_last_interacted: Timestamp = None


@dataclass(frozen=True)
class AffiliatedContact:
    """A contact with its default affiliation: what a HubSpot contact corresponds to. The name is on the
    contact; email, phone, mobile and job title (``position``) are on the affiliation."""

    contact: Contact
    affiliation: Affiliation | None

    @property
    def id(self) -> int:
        return self.contact.id

    @property
    def firstname(self) -> str | None:
        return self.contact.firstname

    @property
    def surname(self) -> str | None:
        return self.contact.surname

    @property
    def email(self) -> str | None:
        return self.affiliation.email if self.affiliation else None

    @property
    def phone(self) -> str | None:
        return self.affiliation.phone if self.affiliation else None

    @property
    def mobile(self) -> str | None:
        return self.affiliation.mobile if self.affiliation else None

    @property
    def position(self) -> str | None:
        return self.affiliation.position if self.affiliation else None

    @property
    def company_id(self) -> int | None:
        return self.affiliation.company_id if self.affiliation else None

    @property
    def date_modified(self) -> datetime | None:
        """The later of the contact's and the affiliation's (Accelo moves them separately)."""
        candidates = [self.contact.date_modified, self.affiliation.date_modified if self.affiliation else None]
        stamps = [stamp for stamp in candidates if stamp is not None]
        return max(stamps) if stamps else None


class Progression(AcceloModel):
    """A transition that may be applied to a record now: it moves the record to ``status``."""

    wire_links = {"status": ("status_id", "status")}

    id: AcceloId
    title: Text = None
    status_id: Reference = None
    status: Status | None = None


class ProgressionHistory(AcceloModel):
    """One status change: the record (``against_type``/``against_id``) moved to ``to_id`` at
    ``date_modified``."""

    wire_links = {"modified_by": ("modified_by_id", "modified_by")}

    id: AcceloId
    to_id: Reference = None
    to_title: Text = None
    against_type: Text = None
    against_id: Reference = None
    modified_by_id: Reference = None
    modified_by: StaffRef | None = None
    date_modified: Timestamp = None


ProfileFieldType = Literal[
    "text",
    "integer",
    "decimal",
    "date",
    "date_time",
    "currency",
    "lookup",
    "structure",
    "select",
    "multi_select",
    "hyperlink",
]


class ProfileField(AcceloModel):
    """A custom field definition. ``options`` for select and multi_select; ``lookup_type`` for lookups."""

    id: AcceloId
    field_name: Text = None
    field_type: Text = None
    parent_id: Reference = None
    link_type: Text = None
    required: Flag = None
    restrictions: Text = None
    exported: Flag = None
    lookup_type: Text = None
    options: TextList = []
    confidential: Flag = None
    description: Text = None


class ProfileValue(AcceloModel):
    """One record's value of one profile field. ``value`` is Accelo's text; ``typed_value`` reads it by the
    field's type (int, Decimal, datetime, list of options, lookup id, or text)."""

    wire_links = {"modified_by": ("modified_by_id", "modified_by")}

    id: AcceloId
    field_id: Reference = None
    field_name: Text = None
    field_type: Text = None
    value_type: Text = None
    value: Text = None
    values: TextList | None = None
    link_type: Text = None
    link_id: Reference = None
    modified_by_id: Reference = None
    modified_by: StaffRef | None = None
    date_modified: Timestamp = None

    def typed_value(self) -> int | Decimal | datetime | list[str] | str | None:
        if self.value is None or self.value == "":
            return [] if self.field_type == "multi_select" else None
        kind = self.field_type
        if kind in ("integer", "lookup"):
            return parse_id(self.value)
        if kind in ("decimal", "currency"):
            return parse_decimal(self.value)
        if kind in ("date", "date_time"):
            return parse_timestamp(self.value)
        if kind == "multi_select":
            return list(self.values) if self.values is not None else parse_text_list(self.value)
        return self.value


class Segmentation(AcceloModel):
    """A category definition (read-only in the API)."""

    id: AcceloId
    title: Text = None
    link_type: Text = None
    standing: Text = None
    required: Flag = None
    exclusive: Flag = None
    leaf: Flag = None


class SegmentationValue(AcceloModel):
    """A record's values of one category: ``values`` (``value`` is the same, comma-joined)."""

    id: AcceloId
    title: Text = None
    value: Text = None
    values: TextList = []


class WebhookSubscription(AcceloModel):
    subscription_id: AcceloId
    event_id: str
    trigger_url: str
    content_type: Text = None
    trigger_table: Text = None
    trigger_type: Text = None
    user_deployment: Text = None
    user_id: Reference = None

    @model_validator(mode="before")
    @classmethod
    def _subscription_id_may_be_called_id(cls, data: Any) -> Any:
        if isinstance(data, dict) and "subscription_id" not in data and "id" in data:
            return {**data, "subscription_id": data["id"]}
        return data


class WebhookType(AcceloModel):
    event_id: str
    event_title: Text = None
    trigger_table: Text = None
    trigger_type: Text = None


class TokenInfo(AcceloModel):
    """``GET /tokeninfo``: whose token this is and when it expires."""

    email: Text = None
    firstname: Text = None
    surname: Text = None
    deployment: Text = None
    staff_id: Reference = None
    expiry_date: Timestamp = None


class CountResult(BaseModel):
    count: AcceloId


Company.model_rebuild()
Contact.model_rebuild()
