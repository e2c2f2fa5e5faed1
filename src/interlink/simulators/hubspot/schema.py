"""What a fresh simulated HubSpot account has: default properties, groups, the deal pipeline, owners; and
how property values are checked and normalised on write (reference/hubspot-api.md §2.3, §3, §4).

Every value is stored and returned as a string. Writes are checked like HubSpot checks them: unknown
properties, read-only properties, enumeration options (case-sensitive), numbers, booleans, dates and
datetimes (ISO-8601 or epoch milliseconds, returned as ISO with milliseconds and ``Z``), ``;``-joined
multi-select values where a leading ``;`` appends, and ``""`` clears.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

OBJECT_TYPES = ("contacts", "companies", "deals")
OBJECT_TYPE_IDS = {"contacts": "0-1", "companies": "0-2", "deals": "0-3"}
TYPE_ALIASES = {
    "contact": "contacts",
    "contacts": "contacts",
    "0-1": "contacts",
    "company": "companies",
    "companies": "companies",
    "0-2": "companies",
    "deal": "deals",
    "deals": "deals",
    "0-3": "deals",
}
SINGULAR = {"contacts": "contact", "companies": "company", "deals": "deal"}
MODIFIED_PROPERTY = {"contacts": "lastmodifieddate", "companies": "hs_lastmodifieddate", "deals": "hs_lastmodifieddate"}
DEFAULT_PROPERTIES = {
    "contacts": ("firstname", "lastname", "email"),
    "companies": ("name", "domain"),
    "deals": ("dealname", "amount", "closedate", "pipeline", "dealstage"),
}
SEARCHABLE = {
    "contacts": ("firstname", "lastname", "email", "phone", "company", "website"),
    "companies": ("name", "domain", "website", "phone"),
    "deals": ("dealname",),
}
LIFECYCLE_STAGES = (
    ("subscriber", "Subscriber"),
    ("lead", "Lead"),
    ("marketingqualifiedlead", "Marketing Qualified Lead"),
    ("salesqualifiedlead", "Sales Qualified Lead"),
    ("opportunity", "Opportunity"),
    ("customer", "Customer"),
    ("evangelist", "Evangelist"),
    ("other", "Other"),
)
LIFECYCLE_ORDER = {value: index for index, (value, _label) in enumerate(LIFECYCLE_STAGES)}
LEAD_STATUSES = (
    ("NEW", "New"),
    ("OPEN", "Open"),
    ("IN_PROGRESS", "In Progress"),
    ("OPEN_DEAL", "Open Deal"),
    ("UNQUALIFIED", "Unqualified"),
    ("ATTEMPTED_TO_CONTACT", "Attempted to Contact"),
    ("CONNECTED", "Connected"),
    ("BAD_TIMING", "Bad Timing"),
)
DEFAULT_STAGES = (
    ("appointmentscheduled", "Appointment Scheduled", "0.2", "false"),
    ("qualifiedtobuy", "Qualified To Buy", "0.4", "false"),
    ("presentationscheduled", "Presentation Scheduled", "0.6", "false"),
    ("decisionmakerboughtin", "Decision Maker Bought-In", "0.8", "false"),
    ("contractsent", "Contract Sent", "0.9", "false"),
    ("closedwon", "Closed Won", "1.0", "true"),
    ("closedlost", "Closed Lost", "0.0", "true"),
)
VALID_FIELD_TYPES = {
    "bool": {"booleancheckbox", "calculation_equation"},
    "enumeration": {"booleancheckbox", "checkbox", "radio", "select", "calculation_equation"},
    "date": {"date"},
    "datetime": {"date"},
    "string": {"text", "textarea", "file", "html", "phonenumber", "calculation_equation"},
    "number": {"number", "calculation_equation"},
    "phone_number": {"phonenumber", "text"},
}
PROPERTY_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def iso_millis(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def parse_datetime_ms(raw: str) -> int | None:
    text = raw.strip()
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1000)


@dataclass
class PropertyDef:
    name: str
    label: str
    type: str
    field_type: str
    group_name: str
    description: str = ""
    options: list[dict[str, Any]] = field(default_factory=list)
    has_unique_value: bool = False
    hubspot_defined: bool = True
    read_only_value: bool = False
    calculated: bool = False
    display_order: int = -1
    hidden: bool = False
    form_field: bool = False
    external_options: bool = False
    referenced_object_type: str | None = None
    created_ms: int = 0
    updated_ms: int = 0
    archived: bool = False

    def to_wire(self, options: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "fieldType": self.field_type,
            "groupName": self.group_name,
            "description": self.description,
            "options": options if options is not None else self.options,
            "displayOrder": self.display_order,
            "calculated": self.calculated,
            "externalOptions": self.external_options,
            "hasUniqueValue": self.has_unique_value,
            "hidden": self.hidden,
            "hubspotDefined": self.hubspot_defined,
            "formField": self.form_field,
            "archived": self.archived,
            "modificationMetadata": {
                "archivable": not self.hubspot_defined,
                "readOnlyDefinition": self.hubspot_defined,
                "readOnlyValue": self.read_only_value,
                "readOnlyOptions": self.hubspot_defined and self.external_options,
            },
            "createdAt": iso_millis(self.created_ms),
            "updatedAt": iso_millis(self.updated_ms),
        }
        if self.referenced_object_type:
            body["referencedObjectType"] = self.referenced_object_type
        return body

    def to_state(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> PropertyDef:
        return cls(**data)


def _options(pairs: tuple[tuple[str, str], ...] | list[tuple[str, str]]) -> list[dict[str, Any]]:
    return [
        {"label": label, "value": value, "displayOrder": index, "hidden": False}
        for index, (value, label) in enumerate(pairs)
    ]


def default_properties(object_type: str) -> list[PropertyDef]:
    group = {"contacts": "contactinformation", "companies": "companyinformation", "deals": "dealinformation"}[
        object_type
    ]

    def text(name: str, label: str, field_type: str = "text") -> PropertyDef:
        return PropertyDef(name, label, "string", field_type, group)

    def read_only(name: str, label: str, type_: str, field_type: str) -> PropertyDef:
        return PropertyDef(name, label, type_, field_type, group, read_only_value=True)

    common = [
        read_only("hs_object_id", "Record ID", "number", "number"),
        read_only("createdate", "Create Date", "datetime", "date"),
        read_only("hs_merged_object_ids", "Merged record IDs", "enumeration", "checkbox"),
        PropertyDef(
            "hubspot_owner_id",
            "Owner",
            "enumeration",
            "select",
            group,
            external_options=True,
            referenced_object_type="OWNER",
        ),
    ]
    if object_type == "contacts":
        return [
            *common,
            read_only("lastmodifieddate", "Last Modified Date", "datetime", "date"),
            read_only("hs_additional_emails", "Additional email addresses", "enumeration", "checkbox"),
            text("email", "Email"),
            text("firstname", "First Name"),
            text("lastname", "Last Name"),
            text("phone", "Phone Number", "phonenumber"),
            text("mobilephone", "Mobile Phone Number", "phonenumber"),
            text("company", "Company Name"),
            text("website", "Website URL"),
            text("jobtitle", "Job Title"),
            text("address", "Street Address"),
            text("city", "City"),
            text("state", "State/Region"),
            text("zip", "Postal Code"),
            text("country", "Country/Region"),
            PropertyDef(
                "lifecyclestage", "Lifecycle Stage", "enumeration", "radio", group, options=_options(LIFECYCLE_STAGES)
            ),
            PropertyDef(
                "hs_lead_status", "Lead Status", "enumeration", "radio", group, options=_options(LEAD_STATUSES)
            ),
        ]
    if object_type == "companies":
        return [
            *common,
            read_only("hs_lastmodifieddate", "Last Modified Date", "datetime", "date"),
            text("name", "Company name"),
            text("domain", "Company Domain Name"),
            text("website", "Website URL"),
            text("phone", "Phone Number", "phonenumber"),
            text("address", "Street Address"),
            text("address2", "Street Address 2"),
            text("city", "City"),
            text("state", "State/Region"),
            text("zip", "Postal Code"),
            text("country", "Country/Region"),
            text("industry", "Industry"),
            text("description", "Description", "textarea"),
            PropertyDef("numberofemployees", "Number of Employees", "number", "number", group),
            PropertyDef("annualrevenue", "Annual Revenue", "number", "number", group),
            PropertyDef(
                "lifecyclestage", "Lifecycle Stage", "enumeration", "radio", group, options=_options(LIFECYCLE_STAGES)
            ),
        ]
    return [
        *common,
        read_only("hs_lastmodifieddate", "Last Modified Date", "datetime", "date"),
        text("dealname", "Deal Name"),
        PropertyDef("amount", "Amount", "number", "number", group),
        PropertyDef("closedate", "Close Date", "datetime", "date", group),
        PropertyDef("pipeline", "Pipeline", "enumeration", "select", group),
        PropertyDef("dealstage", "Deal Stage", "enumeration", "radio", group),
        PropertyDef(
            "dealtype",
            "Deal Type",
            "enumeration",
            "radio",
            group,
            options=_options((("newbusiness", "New Business"), ("existingbusiness", "Existing Business"))),
        ),
        text("description", "Deal Description", "textarea"),
    ]


DEFAULT_GROUPS = {
    "contacts": [("contactinformation", "Contact information")],
    "companies": [("companyinformation", "Company information")],
    "deals": [("dealinformation", "Deal information")],
}


@dataclass
class Stage:
    id: str
    label: str
    display_order: int
    probability: str
    is_closed: str
    created_ms: int = 0

    def to_wire(self) -> dict[str, Any]:
        stamp = iso_millis(self.created_ms)
        return {
            "id": self.id,
            "label": self.label,
            "displayOrder": self.display_order,
            "archived": False,
            "createdAt": stamp,
            "updatedAt": stamp,
            "metadata": {"probability": self.probability, "isClosed": self.is_closed},
            "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
        }


@dataclass
class Pipeline:
    id: str
    label: str
    display_order: int
    stages: list[Stage]
    created_ms: int = 0

    def to_wire(self) -> dict[str, Any]:
        stamp = iso_millis(self.created_ms)
        return {
            "id": self.id,
            "label": self.label,
            "displayOrder": self.display_order,
            "archived": False,
            "createdAt": stamp,
            "updatedAt": stamp,
            "stages": [stage.to_wire() for stage in self.stages],
        }

    def to_state(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "display_order": self.display_order,
            "created_ms": self.created_ms,
            "stages": [dict(stage.__dict__) for stage in self.stages],
        }

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> Pipeline:
        stages = [Stage(**stage) for stage in data["stages"]]
        return cls(data["id"], data["label"], data["display_order"], stages, data.get("created_ms", 0))


def default_pipeline(now_ms: int) -> Pipeline:
    stages = [
        Stage(stage_id, label, index, probability, closed, now_ms)
        for index, (stage_id, label, probability, closed) in enumerate(DEFAULT_STAGES)
    ]
    return Pipeline("default", "Sales Pipeline", 0, stages, now_ms)


@dataclass
class Owner:
    id: str
    email: str
    first_name: str
    last_name: str
    user_id: int
    created_ms: int = 0
    archived: bool = False

    def to_wire(self) -> dict[str, Any]:
        stamp = iso_millis(self.created_ms)
        return {
            "id": self.id,
            "email": self.email,
            "type": "PERSON",
            "firstName": self.first_name,
            "lastName": self.last_name,
            "userId": self.user_id,
            "userIdIncludingInactive": self.user_id,
            "createdAt": stamp,
            "updatedAt": stamp,
            "archived": self.archived,
            "teams": [],
        }


def default_owners(now_ms: int) -> list[Owner]:
    return [
        Owner("101", "ada.admin@example.com", "Ada", "Admin", 9001, now_ms),
        Owner("102", "sam.sales@example.com", "Sam", "Sales", 9002, now_ms),
    ]


# -- value checks --------------------------------------------------------------------------------------------


class InvalidValue(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def normalise_value(definition: PropertyDef, raw: Any, *, current: str | None, options: list[str] | None = None) -> str:
    """The stored form of ``raw`` for ``definition``, or ``InvalidValue`` with HubSpot's error code.

    ``options`` overrides the definition's own (pipelines, stages and owners are dynamic).
    """
    if raw is None:
        return ""
    text = raw if isinstance(raw, str) else ("true" if raw is True else "false" if raw is False else str(raw))
    if text == "":
        return ""
    kind = definition.type
    if kind == "number":
        try:
            float(text)
        except ValueError:
            raise InvalidValue("INVALID_INTEGER", f"{text!r} is not a valid number") from None
        return text.strip()
    if kind == "bool" or (kind == "enumeration" and definition.field_type == "booleancheckbox"):
        if text.lower() not in {"true", "false"}:
            raise InvalidValue("INVALID_BOOLEAN", f"{text!r} is not a valid boolean (true or false)")
        return text.lower()
    if kind == "datetime":
        ms = parse_datetime_ms(text)
        if ms is None:
            raise InvalidValue("INVALID_DATE", f"{text!r} is not a valid datetime (ISO-8601 or epoch milliseconds)")
        return iso_millis(ms)
    if kind == "date":
        ms = parse_datetime_ms(text)
        if ms is None or ms % 86_400_000 != 0:
            raise InvalidValue("INVALID_DATE", f"{text!r} is not a date at midnight UTC")
        return iso_millis(ms)[:10]
    if kind == "enumeration":
        allowed = options if options is not None else [option["value"] for option in definition.options]
        if definition.field_type == "checkbox":
            append = text.startswith(";")
            values = [part for part in text.split(";") if part]
            bad = [value for value in values if value not in allowed]
            if bad:
                raise InvalidValue("INVALID_OPTION", f"{bad[0]!r} was not one of the allowed options: {allowed}")
            if append and current:
                values = [*current.split(";"), *values]
            return ";".join(dict.fromkeys(values))
        if text not in allowed:
            raise InvalidValue("INVALID_OPTION", f"{text!r} was not one of the allowed options: {allowed}")
        return text
    if definition.name == "email" and not EMAIL.match(text.strip()):
        raise InvalidValue("INVALID_EMAIL", f"Email address {text} is invalid")
    if len(text) > 65_536:
        raise InvalidValue("INVALID_STRING", "values are at most 65,536 characters")
    return text.strip() if definition.name == "email" else text
