"""What a field is, in either system: its type, options and whether it can be written.

HubSpot fields come from its Properties API (live). Accelo fields are its built-in fields (fixed, below)
plus profile fields and segmentations (live). Accelo fields are named by stable keys: a built-in name
(``firstname``, ``affiliation.email``, ``postal_address.city``), ``profile:<field_id>`` or
``segmentation:<id>``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from interlink.mappings.canonical import FieldType


class ObjectType(StrEnum):
    contact = "contact"
    company = "company"


System = Literal["hubspot", "accelo"]


class FieldSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    label: str
    type: FieldType
    options: list[str] | None = Field(default=None, description="Allowed values of an enumeration")
    option_labels: dict[str, str] | None = None
    read_only: bool = False
    source: Literal["property", "builtin", "profile", "segmentation", "status"] = "property"
    description: str | None = None


def _builtin(name: str, label: str, type_: FieldType = FieldType.string, *, read_only: bool = False) -> FieldSpec:
    return FieldSpec(name=name, label=label, type=type_, source="builtin", read_only=read_only)


# Accelo's documented built-in fields that a mapping may use. A contact's email, phone and job title live on
# its default affiliation (the contact-at-company record), not on the contact.
ACCELO_BUILTINS: dict[ObjectType, list[FieldSpec]] = {
    ObjectType.contact: [
        _builtin("firstname", "First name"),
        _builtin("surname", "Last name"),
        _builtin("middlename", "Middle name"),
        _builtin("title", "Salutation"),
        _builtin("comments", "Comments"),
        _builtin("affiliation.email", "Email (default affiliation)"),
        _builtin("affiliation.phone", "Phone (default affiliation)"),
        _builtin("affiliation.mobile", "Mobile (default affiliation)"),
        _builtin("affiliation.fax", "Fax (default affiliation)"),
        _builtin("affiliation.position", "Position / job title (default affiliation)"),
        _builtin("date_created", "Created", FieldType.datetime, read_only=True),
        _builtin("date_modified", "Last modified", FieldType.datetime, read_only=True),
    ],
    ObjectType.company: [
        _builtin("name", "Company name"),
        _builtin("website", "Website"),
        _builtin("phone", "Phone"),
        _builtin("fax", "Fax"),
        _builtin("comments", "Comments"),
        _builtin("postal_address.street1", "Street (postal address)"),
        _builtin("postal_address.street2", "Street line 2 (postal address)"),
        _builtin("postal_address.city", "City (postal address)"),
        _builtin("postal_address.state", "State (postal address)"),
        _builtin("postal_address.zipcode", "Postcode (postal address)"),
        _builtin("postal_address.country", "Country (postal address)"),
        _builtin("date_created", "Created", FieldType.datetime, read_only=True),
        _builtin("date_modified", "Last modified", FieldType.datetime, read_only=True),
    ],
}

# Accelo profile field types -> canonical types.
ACCELO_PROFILE_TYPES: dict[str, FieldType] = {
    "text": FieldType.string,
    "hyperlink": FieldType.string,
    "phone": FieldType.string,
    "integer": FieldType.number,
    "decimal": FieldType.number,
    "currency": FieldType.number,
    "date": FieldType.date,
    "date_time": FieldType.datetime,
    "select": FieldType.enumeration,
    "multi_select": FieldType.multi_select,
    "lookup": FieldType.string,
    "structure": FieldType.string,
    "user": FieldType.string,
}


# HubSpot property (type, fieldType) -> canonical type.
def hubspot_field_type(type_: str, field_type: str | None = None) -> FieldType:
    if type_ == "enumeration":
        if field_type == "checkbox":
            return FieldType.multi_select
        if field_type == "booleancheckbox":
            return FieldType.bool
        return FieldType.enumeration
    return {
        "string": FieldType.string,
        "phone_number": FieldType.string,
        "number": FieldType.number,
        "date": FieldType.date,
        "datetime": FieldType.datetime,
        "bool": FieldType.bool,
    }.get(type_, FieldType.string)
