"""HubSpot's wire formats as pydantic models (reference/hubspot-api.md §2.4, §2.6, §3.4, §4.4, §5, §7.2).

Fields are snake_case in Python and camelCase on the wire. Unknown keys are ignored (HubSpot adds fields
over time); the keys HubSpot always sends are required, so an answer without them is a malformed response,
not a crash later in the sync. Every property value travels as a string; ``None`` means "defined, no value".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.alias_generators import to_camel

from interlink.connectors.hubspot.errors import HubSpotMalformedResponse, HubSpotSearchTooLarge
from interlink.kit.time import ensure_utc, to_epoch_millis

# -- object types --------------------------------------------------------------------------------------------

OBJECT_TYPE_IDS = {"contacts": "0-1", "companies": "0-2", "deals": "0-3"}
_OBJECT_TYPE_NAMES = {
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
# Contacts keep their modification time in ``lastmodifieddate``; companies and deals in
# ``hs_lastmodifieddate``. Searching contacts on ``hs_lastmodifieddate`` is reported to misbehave (§2.6).
MODIFIED_DATE_PROPERTY = {
    "contacts": "lastmodifieddate",
    "companies": "hs_lastmodifieddate",
    "deals": "hs_lastmodifieddate",
}
# What HubSpot returns when no ``properties`` are asked for (§2.3), besides the three it always adds.
DEFAULT_PROPERTIES = {
    "contacts": ("firstname", "lastname", "email"),
    "companies": ("name", "domain"),
    "deals": ("dealname", "amount", "closedate", "pipeline", "dealstage"),
}
MERGED_IDS_PROPERTY = "hs_merged_object_ids"


def object_type_name(object_type: str) -> str:
    """``contacts``/``companies``/``deals`` for any of HubSpot's spellings (``contact``, ``0-1``...).

    Other object types (tickets, custom objects) pass through unchanged.
    """
    return _OBJECT_TYPE_NAMES.get(object_type.lower(), object_type)


def modified_date_property(object_type: str) -> str:
    return MODIFIED_DATE_PROPERTY.get(object_type_name(object_type), "hs_lastmodifieddate")


# -- base ----------------------------------------------------------------------------------------------------


class WireModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    def to_wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


M = TypeVar("M", bound=BaseModel)


def parse_model(model: type[M], data: Any, *, what: str) -> M:
    """Validate HubSpot's JSON as ``model``; a missing or mistyped field is a ``HubSpotMalformedResponse``."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'body'}: {error['msg']}" for error in exc.errors()[:5]
        )
        raise HubSpotMalformedResponse(f"unexpected {what} from HubSpot: {problems}") from None


def _id_text(value: Any) -> Any:
    # HubSpot's newer specs type ids as strings, older examples as numbers (§5): accept both, keep text.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


# -- CRM objects ---------------------------------------------------------------------------------------------


class PropertyVersion(WireModel):
    """One entry of ``propertiesWithHistory``, newest first."""

    value: str | None = None
    timestamp: datetime
    source_type: str | None = None
    source_id: str | None = None
    source_label: str | None = None
    updated_by_user_id: int | None = None


class AssociatedId(WireModel):
    id: str
    type: str | None = None

    _text_id = field_validator("id", mode="before")(_id_text)


class AssociationsPage(WireModel):
    results: list[AssociatedId] = Field(default_factory=list)


class HubSpotObject(WireModel):
    """A contact, company or deal as the v3 objects API returns it (``SimplePublicObject``)."""

    id: str
    properties: dict[str, str | None]
    properties_with_history: dict[str, list[PropertyVersion]] | None = None
    created_at: datetime
    updated_at: datetime
    archived: bool = False
    archived_at: datetime | None = None
    associations: dict[str, AssociationsPage] | None = None
    object_write_trace_id: str | None = None

    _text_id = field_validator("id", mode="before")(_id_text)

    @field_validator("properties", mode="before")
    @classmethod
    def _values_as_text(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {key: None if item is None else str(item) for key, item in value.items()}
        return value

    def get(self, name: str) -> str | None:
        """A property's value; ``None`` when it is empty, unset or was not asked for."""
        value = self.properties.get(name)
        return value if value not in (None, "") else None

    @property
    def merged_ids(self) -> list[str]:
        """Ids merged into this record (``hs_merged_object_ids``, ``;``-separated): they now resolve here."""
        raw = self.properties.get(MERGED_IDS_PROPERTY) or ""
        return [part for part in raw.split(";") if part]

    def modified_at_millis(self, object_type: str) -> int | None:
        """The record's modification time as epoch ms, from the property search filters and sorts use."""
        raw = self.properties.get(modified_date_property(object_type))
        if raw:
            parsed = parse_hubspot_datetime(raw)
            if parsed is not None:
                return parsed
        return to_epoch_millis(self.updated_at)


class UpsertedObject(HubSpotObject):
    """A batch upsert's result: ``new`` is true when the record was created."""

    new: bool = False


def parse_hubspot_datetime(raw: str) -> int | None:
    """Epoch ms from a HubSpot datetime value: ISO-8601 (``...Z``) or epoch milliseconds as text."""
    text = raw.strip()
    if text.isdigit():
        return int(text)
    try:
        return to_epoch_millis(ensure_utc(datetime.fromisoformat(text.replace("Z", "+00:00"))))
    except ValueError:
        return None


# -- search --------------------------------------------------------------------------------------------------

Operator = Literal[
    "EQ",
    "NEQ",
    "LT",
    "LTE",
    "GT",
    "GTE",
    "BETWEEN",
    "IN",
    "NOT_IN",
    "HAS_PROPERTY",
    "NOT_HAS_PROPERTY",
    "CONTAINS_TOKEN",
    "NOT_CONTAINS_TOKEN",
]
FilterValue = str | int | float | bool | datetime

MAX_FILTER_GROUPS = 5
MAX_FILTERS_PER_GROUP = 6
MAX_FILTERS = 18


def filter_value(value: FilterValue) -> str:
    """Search values are strings; dates and datetimes are epoch milliseconds (§2.6)."""
    if isinstance(value, datetime):
        return str(to_epoch_millis(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Filter(WireModel):
    property_name: str
    operator: Operator
    value: str | None = None
    high_value: str | None = None
    values: list[str] | None = None

    @classmethod
    def of(
        cls,
        property_name: str,
        operator: Operator,
        value: FilterValue | None = None,
        *,
        high_value: FilterValue | None = None,
        values: Sequence[FilterValue] | None = None,
    ) -> Filter:
        return cls(
            property_name=property_name,
            operator=operator,
            value=None if value is None else filter_value(value),
            high_value=None if high_value is None else filter_value(high_value),
            values=None if values is None else [filter_value(item) for item in values],
        )


class FilterGroup(WireModel):
    """Filters ANDed together; the groups of one search are ORed."""

    filters: list[Filter]

    @classmethod
    def of(cls, *filters: Filter) -> FilterGroup:
        return cls(filters=list(filters))


class Sort(WireModel):
    property_name: str
    direction: Literal["ASCENDING", "DESCENDING"] = "ASCENDING"


class SearchRequest(WireModel):
    """``PublicObjectSearchRequest``; HubSpot applies only the first sort."""

    filter_groups: list[FilterGroup] = Field(default_factory=list)
    sorts: list[Sort] = Field(default_factory=list)
    properties: list[str] | None = None
    query: str | None = None

    def check_limits(self) -> None:
        """HubSpot's limits (§2.6), checked before sending so the error names our request, not a 400."""
        if len(self.filter_groups) > MAX_FILTER_GROUPS:
            raise HubSpotSearchTooLarge(f"at most {MAX_FILTER_GROUPS} filter groups (got {len(self.filter_groups)})")
        for group in self.filter_groups:
            if len(group.filters) > MAX_FILTERS_PER_GROUP:
                raise HubSpotSearchTooLarge(f"at most {MAX_FILTERS_PER_GROUP} filters per group")
        if sum(len(group.filters) for group in self.filter_groups) > MAX_FILTERS:
            raise HubSpotSearchTooLarge(f"at most {MAX_FILTERS} filters in all")


class SearchPage(WireModel):
    total: int
    results: list[HubSpotObject]
    next_after: str | None = None


# -- properties ----------------------------------------------------------------------------------------------

PropertyType = Literal["string", "number", "date", "datetime", "enumeration", "bool", "phone_number"]


class PropertyOption(WireModel):
    label: str
    value: str
    display_order: int | None = None
    hidden: bool = False
    description: str | None = None


class ModificationMetadata(WireModel):
    archivable: bool = True
    read_only_definition: bool = False
    read_only_value: bool = False
    read_only_options: bool | None = None


class PropertyDefinition(WireModel):
    """A property as the Properties API describes it (``Property``), with its type and enum options."""

    name: str
    label: str
    type: str
    field_type: str
    group_name: str
    description: str = ""
    options: list[PropertyOption] = Field(default_factory=list)
    hubspot_defined: bool | None = None
    has_unique_value: bool = False
    hidden: bool = False
    form_field: bool | None = None
    display_order: int | None = None
    calculated: bool | None = None
    external_options: bool | None = None
    referenced_object_type: str | None = None
    modification_metadata: ModificationMetadata | None = None
    archived: bool = False

    @property
    def read_only(self) -> bool:
        """Values of this property cannot be written through the API (``hs_object_id``, calculated ones)."""
        metadata = self.modification_metadata
        return bool(self.calculated) or (metadata is not None and metadata.read_only_value)

    @property
    def option_values(self) -> list[str]:
        return [option.value for option in self.options]


class PropertySpec(WireModel):
    """A property we need to exist (``PropertyCreate``): what ``ensure_property`` creates or checks."""

    name: str
    label: str
    type: PropertyType
    field_type: str
    group_name: str
    description: str = ""
    options: list[PropertyOption] = Field(default_factory=list)
    has_unique_value: bool = False
    display_order: int = -1
    form_field: bool = False
    hidden: bool = False


class PropertyGroup(WireModel):
    name: str
    label: str
    display_order: int | None = None
    archived: bool = False


# -- pipelines, owners ---------------------------------------------------------------------------------------


class PipelineStage(WireModel):
    id: str
    label: str
    display_order: int = 0
    archived: bool = False
    metadata: dict[str, str | None] = Field(default_factory=dict)

    @property
    def is_closed(self) -> bool:
        return (self.metadata.get("isClosed") or "false").lower() == "true"

    @property
    def probability(self) -> float | None:
        raw = self.metadata.get("probability")
        try:
            return float(raw) if raw is not None else None
        except ValueError:
            return None


class Pipeline(WireModel):
    id: str
    label: str
    display_order: int = 0
    archived: bool = False
    stages: list[PipelineStage] = Field(default_factory=list)


class Owner(WireModel):
    id: str
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    user_id: int | None = None
    type: str | None = None
    archived: bool = False

    _text_id = field_validator("id", mode="before")(_id_text)


# -- associations v4 -----------------------------------------------------------------------------------------

AssociationCategory = Literal["HUBSPOT_DEFINED", "USER_DEFINED", "INTEGRATOR_DEFINED", "WORK"]


class AssociationType(WireModel):
    category: str
    type_id: int
    label: str | None = None


class AssociatedRecord(WireModel):
    """One record on the other end of a record's associations, with every type that links them."""

    to_object_id: str
    association_types: list[AssociationType] = Field(default_factory=list)

    _text_id = field_validator("to_object_id", mode="before")(_id_text)

    @property
    def type_ids(self) -> set[int]:
        return {kind.type_id for kind in self.association_types}


class AssociationSpec(WireModel):
    association_category: str = "HUBSPOT_DEFINED"
    association_type_id: int


class AssociationLabel(WireModel):
    category: str
    type_id: int
    label: str | None = None


# -- OAuth ---------------------------------------------------------------------------------------------------


class TokenResponse(WireModel):
    """The token endpoint's answer (``/oauth/v1/token``). Field names are snake_case on the wire."""

    model_config = ConfigDict(alias_generator=None, extra="ignore")

    access_token: str
    refresh_token: str | None = None
    expires_in: int
    token_type: str | None = None
    hub_id: int | None = None
    scopes: list[str] | None = None
