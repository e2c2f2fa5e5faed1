"""The seven deal properties Accord data lands in: their keys, default internal names, HubSpot definitions,
and the value each gets from an Accord (Accord's HubSpot guide, seeds/002; reference/accelo-api.md §7).

Values are computed as the text HubSpot stores (every HubSpot property value is a string), in a canonical
form, so "the same value as last pushed" is plain string equality: ``45`` and ``45.0`` are both ``"45"``.
``None`` means no value (cleared in HubSpot).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from interlink.connectors.accord.envelope import AccordState, canonical_number
from interlink.connectors.hubspot.schemas import PropertySpec

GROUP_NAME = "accord_customer_collaboration_data"
GROUP_LABEL = "Accord Customer Collaboration Data"
OBJECT_TYPE = "deals"


class AccordKey(StrEnum):
    """The seven data points, by the envelope's names (the order Accord recommends on the deal view)."""

    url = "url"
    status = "status"
    current_stage = "current_stage"
    customers_invited = "customers_invited"
    customers_accepted = "customers_accepted"
    progress = "progress"
    execution_score = "execution_score"


@dataclass(frozen=True)
class AccordProperty:
    key: AccordKey
    default_name: str
    label: str
    description: str
    type: Literal["string", "number"]
    field_type: Literal["text", "number"]

    def spec(self, name: str, display_order: int) -> PropertySpec:
        return PropertySpec(
            name=name,
            label=self.label,
            type=self.type,
            field_type=self.field_type,
            group_name=GROUP_NAME,
            description=self.description,
            display_order=display_order,
        )


PROPERTIES: tuple[AccordProperty, ...] = (
    AccordProperty(
        AccordKey.url, "accord_url", "Accord URL", "Unique URL of your shared Accord workspace.", "string", "text"
    ),
    AccordProperty(
        AccordKey.status,
        "accord_status",
        "Accord Status",
        "Status of the Accord (Not Started, On Track, At Risk, Stalled)",
        "string",
        "text",
    ),
    AccordProperty(
        AccordKey.current_stage,
        "current_stage",
        "Accord Stage",
        "Title of the Accord's current Stage.",
        "string",
        "text",
    ),
    AccordProperty(
        AccordKey.customers_invited,
        "number_of_customers_invited",
        "Accord: Customers Invited",
        "Number of Customers invited to the Accord.",
        "number",
        "number",
    ),
    AccordProperty(
        AccordKey.customers_accepted,
        "number_of_customers_accepted",
        "Accord: Customers Accepted",
        "Number of Customers who have accepted their Accord invitation",
        "number",
        "number",
    ),
    AccordProperty(
        AccordKey.progress,
        "accord_progress",
        "Accord Progress",
        "Percentage of the Accord that's been completed",
        "number",
        "number",
    ),
    AccordProperty(
        AccordKey.execution_score,
        "accord_execution_score",
        "Accord Execution Score",
        "The Execution Score of the Accord.",
        "number",
        "number",
    ),
)
BY_KEY: dict[AccordKey, AccordProperty] = {prop.key: prop for prop in PROPERTIES}
DEFAULT_NAMES: dict[str, str] = {prop.key.value: prop.default_name for prop in PROPERTIES}


def names_with_defaults(stored: Mapping[str, Any] | None) -> dict[str, str]:
    """The internal name of every key: the workspace's own where it set one, the default otherwise."""
    stored = stored or {}
    return {key: str(stored.get(key) or default) for key, default in DEFAULT_NAMES.items()}


def snapshot_of(state: AccordState) -> dict[str, Any]:
    """The data points of an event, kept on the link (JSON) so a relink can push them without a new event."""
    return {
        AccordKey.url.value: state.url,
        AccordKey.status.value: state.status.value,
        AccordKey.current_stage.value: state.current_stage,
        AccordKey.customers_invited.value: state.customers_invited,
        AccordKey.customers_accepted.value: state.customers_accepted,
        AccordKey.progress.value: state.progress,
        AccordKey.execution_score.value: state.execution_score,
    }


def property_values(snapshot: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, str | None]:
    """What each deal property should hold, by internal name, in HubSpot's text form."""
    values: dict[str, str | None] = {}
    for prop in PROPERTIES:
        raw = snapshot.get(prop.key.value)
        if prop.type == "number":
            text = canonical_number(raw) if isinstance(raw, int | float) and not isinstance(raw, bool) else None
        else:
            text = str(raw) if raw not in (None, "") else None
        values[names[prop.key.value]] = text
    return values


def changed_values(
    desired: Mapping[str, str | None], pushed: Mapping[str, Any], *, force: bool = False
) -> dict[str, str | None]:
    """The properties whose value differs from what was last pushed to this deal (all of them when forced).

    A property never pushed counts as empty: an empty value is not written until something was.
    """
    if force:
        return dict(desired)
    return {name: value for name, value in desired.items() if pushed.get(name) != value}
