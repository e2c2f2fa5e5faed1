"""A mapping's codec: both sides' raw values into one canonical space, and back.

A two-way mapping needs the same type on both sides (its values must survive a round trip in either
direction). A one-way mapping may also convert safely toward its target's type (a number into a text field,
a date into a date-time); its values are compared in the target's type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from interlink.mappings.canonical import (
    Canonical,
    FieldType,
    InvalidValue,
    decode_accelo,
    decode_hubspot,
    encode_accelo,
    encode_hubspot,
)

# source type -> target types a one-way mapping may convert it into
SAFE_CONVERSIONS: dict[FieldType, set[FieldType]] = {
    FieldType.number: {FieldType.string},
    FieldType.enumeration: {FieldType.string, FieldType.multi_select},
    FieldType.bool: {FieldType.string},
    FieldType.date: {FieldType.string, FieldType.datetime},
    FieldType.datetime: {FieldType.string, FieldType.date},
    FieldType.multi_select: {FieldType.string},
}


def convert(value: Canonical, source: FieldType, target: FieldType) -> Canonical:
    if value is None or source == target:
        return value
    if target is FieldType.string:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, list):
            return "; ".join(value)
        return str(value)
    if source is FieldType.date and target is FieldType.datetime:
        return f"{value}T00:00:00Z"
    if source is FieldType.datetime and target is FieldType.date:
        return str(value)[:10]
    if source is FieldType.enumeration and target is FieldType.multi_select:
        return [str(value)]
    raise InvalidValue(f"cannot convert {source} into {target}")


@dataclass(frozen=True)
class MappingCodec:
    hubspot_type: FieldType
    accelo_type: FieldType
    canonical_type: FieldType
    # HubSpot option value -> Accelo option value, for enumerations and multi-selects
    value_map: dict[str, str] = field(default_factory=dict)

    def _to_accelo_option(self, value: str) -> str:
        return self.value_map.get(value, value)

    def _from_accelo_option(self, value: str) -> str:
        inverse = {accelo: hubspot for hubspot, accelo in self.value_map.items()}
        return inverse.get(value, value)

    def _map_options(self, value: Canonical, mapper: Any) -> Canonical:
        if not self.value_map or value is None:
            return value
        if isinstance(value, list):
            return sorted({mapper(item) for item in value})
        if isinstance(value, str):
            return str(mapper(value))
        return value

    def from_hubspot(self, raw: Any) -> Canonical:
        value = decode_hubspot(self.hubspot_type, raw)
        return convert(value, self.hubspot_type, self.canonical_type)

    def from_accelo(self, raw: Any) -> Canonical:
        value = self._map_options(decode_accelo(self.accelo_type, raw), self._from_accelo_option)
        return convert(value, self.accelo_type, self.canonical_type)

    def to_hubspot(self, value: Canonical) -> str:
        return encode_hubspot(self.hubspot_type, value)

    def to_accelo(self, value: Canonical) -> str | list[str] | None:
        return encode_accelo(self.accelo_type, self._map_options(value, self._to_accelo_option))


def codec_for(
    hubspot_type: FieldType, accelo_type: FieldType, direction: str, value_map: dict[str, str] | None = None
) -> MappingCodec:
    """The codec of a mapping; raises InvalidValue when the two types cannot be mapped in that direction."""
    if hubspot_type == accelo_type:
        canonical = hubspot_type
    elif direction == "to_accelo" and accelo_type in SAFE_CONVERSIONS.get(hubspot_type, set()):
        canonical = accelo_type
    elif direction == "to_hubspot" and hubspot_type in SAFE_CONVERSIONS.get(accelo_type, set()):
        canonical = hubspot_type
    else:
        raise InvalidValue(f"a HubSpot {hubspot_type} and an Accelo {accelo_type} cannot be mapped {direction}")
    return MappingCodec(hubspot_type, accelo_type, canonical, dict(value_map or {}))
