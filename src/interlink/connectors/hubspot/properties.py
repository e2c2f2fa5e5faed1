"""The Properties API (reference/hubspot-api.md §3): read property types and options; make sure the
property groups and properties Interlink writes to exist, idempotently.

``ensure_property`` is safe to call on every start: an existing property that can hold the same values is
success; one that cannot (another type, single- vs multi-select, missing enum options, a unique flag that
differs, read-only) is a ``HubSpotPropertyMismatch`` naming each difference. Labels, descriptions, the
group and the exact widget (``select`` vs ``radio``) are for people; admins may change them in HubSpot,
so they are reported as ``cosmetic`` differences, not errors. Two workers ensuring the same property at
once is fine: the loser's 409 is followed by a re-read and the same comparison.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from interlink.connectors.hubspot.errors import HubSpotConflict, HubSpotNotFound, HubSpotPropertyMismatch
from interlink.connectors.hubspot.schemas import (
    PropertyDefinition,
    PropertyGroup,
    PropertySpec,
    object_type_name,
    parse_model,
)
from interlink.connectors.hubspot.transport import HubSpotTransport, results_of

T = TypeVar("T", PropertyDefinition, PropertyGroup)


@dataclass
class Ensured(Generic[T]):
    value: T
    created: bool
    cosmetic: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # field -> (existing, wanted)


def value_shape(type_: str, field_type: str) -> str:
    """What values a property holds, ignoring the widget: enumerations are single, multi or boolean."""
    if type_ == "enumeration":
        return {"checkbox": "multi", "booleancheckbox": "bool"}.get(field_type, "single")
    if type_ == "bool":
        return "bool"
    return type_


class PropertiesApi:
    def __init__(self, transport: HubSpotTransport) -> None:
        self.transport = transport

    def _path(self, object_type: str) -> str:
        return f"/crm/v3/properties/{object_type_name(object_type)}"

    # -- properties ------------------------------------------------------------------------------------------

    def get_all(self, object_type: str, *, archived: bool = False) -> list[PropertyDefinition]:
        """Every property of the object type, with its type, field type and enumeration options."""
        path = self._path(object_type)
        body = self.transport.json_object("GET", path, route=path, params={"archived": archived})
        return [
            parse_model(PropertyDefinition, item, what="property definition")
            for item in results_of(body, what="a property list")
        ]

    def get(self, object_type: str, name: str) -> PropertyDefinition | None:
        path = self._path(object_type)
        try:
            body = self.transport.json_object("GET", f"{path}/{name}", route=f"{path}/{{name}}")
        except HubSpotNotFound:
            return None
        return parse_model(PropertyDefinition, body, what="property definition")

    def create(self, object_type: str, spec: PropertySpec) -> PropertyDefinition:
        path = self._path(object_type)
        body = self.transport.json_object("POST", path, route=path, json=spec.to_wire())
        return parse_model(PropertyDefinition, body, what="created property")

    def ensure_property(self, object_type: str, spec: PropertySpec) -> Ensured[PropertyDefinition]:
        existing = self.get(object_type, spec.name)
        if existing is None:
            try:
                return Ensured(self.create(object_type, spec), created=True)
            except HubSpotConflict:
                existing = self.get(object_type, spec.name)  # created meanwhile by another worker
                if existing is None:
                    raise
        return Ensured(existing, created=False, cosmetic=self._compare(object_type, existing, spec))

    @staticmethod
    def _compare(object_type: str, existing: PropertyDefinition, spec: PropertySpec) -> dict[str, tuple[Any, Any]]:
        clashes: dict[str, tuple[Any, Any]] = {}
        cosmetic: dict[str, tuple[Any, Any]] = {}
        if value_shape(existing.type, existing.field_type) != value_shape(spec.type, spec.field_type):
            clashes["type"] = (f"{existing.type}/{existing.field_type}", f"{spec.type}/{spec.field_type}")
        elif existing.field_type != spec.field_type:
            cosmetic["fieldType"] = (existing.field_type, spec.field_type)
        if existing.has_unique_value != spec.has_unique_value:
            clashes["hasUniqueValue"] = (existing.has_unique_value, spec.has_unique_value)
        missing = [option.value for option in spec.options if option.value not in existing.option_values]
        if missing:
            clashes["options"] = (existing.option_values, [option.value for option in spec.options])
        if existing.read_only:
            clashes["readOnlyValue"] = (True, False)
        for name, have, want in (
            ("label", existing.label, spec.label),
            ("groupName", existing.group_name, spec.group_name),
            ("description", existing.description, spec.description),
        ):
            if have != want:
                cosmetic[name] = (have, want)
        if clashes:
            detail = "; ".join(
                f"{name}: HubSpot has {have!r}, we need {want!r}" for name, (have, want) in clashes.items()
            )
            raise HubSpotPropertyMismatch(
                f"the {object_type_name(object_type)} property {spec.name!r} already exists with a different "
                f"definition ({detail}); rename ours or change the existing property in HubSpot",
                differences=clashes,
                existing_id=spec.name,
            )
        return cosmetic

    # -- groups ----------------------------------------------------------------------------------------------

    def get_all_groups(self, object_type: str) -> list[PropertyGroup]:
        path = f"{self._path(object_type)}/groups"
        body = self.transport.json_object("GET", path, route=path)
        return [parse_model(PropertyGroup, item, what="property group") for item in results_of(body, what="groups")]

    def get_group(self, object_type: str, name: str) -> PropertyGroup | None:
        path = f"{self._path(object_type)}/groups"
        try:
            body = self.transport.json_object("GET", f"{path}/{name}", route=f"{path}/{{name}}")
        except HubSpotNotFound:
            return None
        return parse_model(PropertyGroup, body, what="property group")

    def create_group(self, object_type: str, name: str, label: str, *, display_order: int = -1) -> PropertyGroup:
        path = f"{self._path(object_type)}/groups"
        body = self.transport.json_object(
            "POST", path, route=path, json={"name": name, "label": label, "displayOrder": display_order}
        )
        return parse_model(PropertyGroup, body, what="created property group")

    def ensure_property_group(
        self, object_type: str, name: str, label: str, *, display_order: int = -1
    ) -> Ensured[PropertyGroup]:
        """The group named ``name``, created if missing. A group holds no values, so only an archived group
        is a clash; a different label is cosmetic."""
        existing = self.get_group(object_type, name)
        if existing is None:
            try:
                return Ensured(self.create_group(object_type, name, label, display_order=display_order), True)
            except HubSpotConflict:
                existing = self.get_group(object_type, name)
                if existing is None:
                    raise
        if existing.archived:
            raise HubSpotPropertyMismatch(
                f"the property group {name!r} exists but is archived; restore it in HubSpot",
                differences={"archived": (True, False)},
                existing_id=name,
            )
        cosmetic = {"label": (existing.label, label)} if existing.label != label else {}
        return Ensured(existing, created=False, cosmetic=cosmetic)
