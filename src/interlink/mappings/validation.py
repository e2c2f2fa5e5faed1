"""Checking a field mapping against both systems' live schemas before it is saved.

Each problem names the field and the fix, so the API's 422 (and the admin UI, next to the row) can say
exactly what to do: unknown property, incompatible types, missing enum option, read-only target, the same
target field written by two mappings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from interlink.mappings.canonical import FieldType, InvalidValue
from interlink.mappings.codec import codec_for
from interlink.mappings.fields import FieldSpec

# HubSpot moves a lifecycle stage only forward through its API: only the status decision knows how to move it
# back (clear, then set), so a field mapping may read it but never write it.
FORWARD_ONLY = "lifecyclestage"


@dataclass(frozen=True)
class MappingProblem:
    field: str
    message: str
    fix: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message, "fix": self.fix}


@dataclass(frozen=True)
class MappingDraft:
    object_type: str
    hubspot_property: str
    accelo_field: str
    direction: str
    value_map: Mapping[str, str] | None = None


@dataclass(frozen=True)
class ExistingMapping:
    hubspot_property: str
    accelo_field: str
    direction: str


def writes_hubspot(direction: str) -> bool:
    return direction in {"both", "to_hubspot"}


def writes_accelo(direction: str) -> bool:
    return direction in {"both", "to_accelo"}


def _suggest(name: str, options: Iterable[str]) -> str:
    close = [option for option in options if name.lower() in option.lower() or option.lower() in name.lower()]
    return f" (similar: {', '.join(sorted(close)[:5])})" if close else ""


def validate_mapping(
    draft: MappingDraft,
    hubspot_schema: Mapping[str, FieldSpec],
    accelo_schema: Mapping[str, FieldSpec],
    others: Iterable[ExistingMapping] = (),
    *,
    status_property: str = "lifecyclestage",
) -> list[MappingProblem]:
    """All problems with ``draft`` (empty when it can be saved). ``others``: the type's other mappings;
    ``status_property``: the HubSpot property the workspace keeps this type's status in."""
    problems: list[MappingProblem] = []
    hubspot = hubspot_schema.get(draft.hubspot_property)
    accelo = accelo_schema.get(draft.accelo_field)
    if hubspot is None:
        problems.append(
            MappingProblem(
                "hubspot_property",
                f"HubSpot has no {draft.object_type} property {draft.hubspot_property!r}"
                + _suggest(draft.hubspot_property, hubspot_schema),
                "pick a property from GET /schema/hubspot/{object_type}, or create it in HubSpot first",
            )
        )
    if accelo is None:
        problems.append(
            MappingProblem(
                "accelo_field",
                f"Accelo has no {draft.object_type} field {draft.accelo_field!r}"
                + _suggest(draft.accelo_field, accelo_schema),
                "pick a field from GET /schema/accelo/{object_type} (built-in name, profile:<id> or segmentation:<id>)",
            )
        )
    if hubspot is None or accelo is None:
        return problems

    if hubspot.name == status_property or accelo.source == "status":
        problems.append(
            MappingProblem(
                "hubspot_property" if hubspot.name == status_property else "accelo_field",
                "statuses are synced by the status mappings, not by field mappings",
                "remove this mapping and edit /status-mappings instead",
            )
        )
        return problems
    if hubspot.name == FORWARD_ONLY and writes_hubspot(draft.direction):
        problems.append(
            MappingProblem(
                "direction",
                f"HubSpot moves {FORWARD_ONLY!r} only forward through its API, so a field mapping cannot write it",
                f"set direction to 'to_accelo', or make {FORWARD_ONLY!r} the status property and use /status-mappings",
            )
        )
    if accelo.source == "segmentation" and draft.direction != "to_hubspot":
        problems.append(
            MappingProblem(
                "direction",
                f"Accelo category {accelo.label!r} is read-only in Accelo's API",
                "set direction to 'to_hubspot'",
            )
        )
    elif writes_accelo(draft.direction) and accelo.read_only:
        problems.append(
            MappingProblem(
                "accelo_field",
                f"Accelo field {accelo.label!r} is read-only, and direction {draft.direction!r} writes to it",
                "set direction to 'to_hubspot', or pick a writable Accelo field",
            )
        )
    if writes_hubspot(draft.direction) and hubspot.read_only:
        problems.append(
            MappingProblem(
                "hubspot_property",
                f"HubSpot property {hubspot.name!r} is read-only, and direction {draft.direction!r} writes to it",
                "set direction to 'to_accelo', or pick a writable HubSpot property",
            )
        )

    try:
        codec = codec_for(hubspot.type, accelo.type, draft.direction, dict(draft.value_map or {}))
    except InvalidValue:
        one_way = _one_way_alternative(hubspot.type, accelo.type)
        problems.append(
            MappingProblem(
                "accelo_field",
                f"HubSpot {hubspot.name!r} is a {hubspot.type} and Accelo {accelo.label!r} is a {accelo.type}: "
                f"they cannot be mapped {draft.direction!r}",
                f"map it {one_way}, or pick an Accelo {hubspot.type} field"
                if one_way
                else f"pick an Accelo {hubspot.type} field",
            )
        )
        return problems

    if codec.canonical_type in {FieldType.enumeration, FieldType.multi_select} or draft.value_map:
        problems.extend(_option_problems(draft, hubspot, accelo))
    problems.extend(_separator_problems(draft, hubspot, accelo))
    problems.extend(_duplicate_targets(draft, others))
    return problems


def _one_way_alternative(hubspot_type: FieldType, accelo_type: FieldType) -> str | None:
    from interlink.mappings.codec import SAFE_CONVERSIONS

    if accelo_type in SAFE_CONVERSIONS.get(hubspot_type, set()):
        return "'to_accelo' only"
    if hubspot_type in SAFE_CONVERSIONS.get(accelo_type, set()):
        return "'to_hubspot' only"
    return None


def _option_problems(draft: MappingDraft, hubspot: FieldSpec, accelo: FieldSpec) -> list[MappingProblem]:
    problems = []
    value_map = dict(draft.value_map or {})
    hubspot_options = set(hubspot.options or [])
    accelo_options = set(accelo.options or [])
    if value_map:
        unknown_keys = sorted(set(value_map) - hubspot_options) if hubspot_options else []
        unknown_values = sorted(set(value_map.values()) - accelo_options) if accelo_options else []
        if unknown_keys:
            problems.append(
                MappingProblem(
                    "value_map",
                    f"not options of HubSpot {hubspot.name!r}: {', '.join(unknown_keys)}",
                    f"use HubSpot's internal values: {', '.join(sorted(hubspot_options)[:20])}",
                )
            )
        if unknown_values:
            problems.append(
                MappingProblem(
                    "value_map",
                    f"not options of Accelo {accelo.label!r}: {', '.join(unknown_values)}",
                    f"use Accelo's options: {', '.join(sorted(accelo_options)[:20])}",
                )
            )
        if draft.direction == "both" and len(set(value_map.values())) != len(value_map):
            problems.append(
                MappingProblem(
                    "value_map",
                    "two HubSpot options map to the same Accelo option, so a two-way mapping cannot map it back",
                    "make the value map one-to-one, or make the mapping one-way",
                )
            )
    if problems:
        return problems
    inverse = {target: source for source, target in value_map.items()}
    if draft.direction == "both":
        problems.extend(_collisions(hubspot_options, value_map, "HubSpot", "Accelo"))
        problems.extend(_collisions(accelo_options, inverse, "Accelo", "HubSpot"))
        if problems:
            return problems
    if writes_accelo(draft.direction) and hubspot_options and accelo_options:
        missing = sorted(option for option in hubspot_options if value_map.get(option, option) not in accelo_options)
        if missing:
            problems.append(
                MappingProblem(
                    "value_map",
                    f"HubSpot options with no Accelo option to go to: {', '.join(missing)}",
                    f"add them to the value map (Accelo options: {', '.join(sorted(accelo_options)[:20])}), "
                    "or add the options in Accelo",
                )
            )
    if writes_hubspot(draft.direction) and hubspot_options and accelo_options:
        missing = sorted(option for option in accelo_options if inverse.get(option, option) not in hubspot_options)
        if missing:
            problems.append(
                MappingProblem(
                    "value_map",
                    f"Accelo options with no HubSpot option to go to: {', '.join(missing)}",
                    "add them to the value map, or add the options to the HubSpot property",
                )
            )
    return problems


def _collisions(options: set[str], mapping: Mapping[str, str], source: str, target: str) -> list[MappingProblem]:
    """Two options of one side that would land on the same option of the other (one mapped there, one passing
    through unmapped under the same name): a two-way mapping reading that option back could not tell which it
    was, and would rewrite the first system's value to the other option."""
    landing: dict[str, list[str]] = {}
    for option in sorted(options):
        landing.setdefault(mapping.get(option, option), []).append(option)
    return [
        MappingProblem(
            "value_map",
            f"{source} options {' and '.join(repr(o) for o in sources)} would both become {target} {landed!r}, so "
            f"a two-way mapping could not tell them apart when it reads {target} back",
            "make the value map one-to-one (give each option its own counterpart), or make the mapping one-way",
        )
        for landed, sources in landing.items()
        if len(sources) > 1
    ]


# The form each system writes a multi-select in: the chosen options joined by a separator, each trimmed on the
# way back. An option holding the separator, or spaces at either end, would come back split or trimmed.
MULTI_SELECT_SEPARATORS = {"HubSpot": ";", "Accelo": ","}


def _unwritable_options(options: Iterable[str], separator: str) -> list[str]:
    reasons = []
    for option in options:
        if separator in option:
            reasons.append(f"{option!r} (contains {separator!r})")
        elif option != option.strip():
            reasons.append(f"{option!r} (starts or ends with a space)")
    return reasons


def _separator_problems(draft: MappingDraft, hubspot: FieldSpec, accelo: FieldSpec) -> list[MappingProblem]:
    problems = []
    if writes_accelo(draft.direction) and accelo.type is FieldType.multi_select:
        bad = _unwritable_options(accelo.options or [], MULTI_SELECT_SEPARATORS["Accelo"])
        if bad:
            problems.append(
                MappingProblem(
                    "accelo_field",
                    f"Accelo takes multi-select {accelo.label!r} as its options joined by ', ', so these options "
                    f"would come back split or trimmed: {', '.join(bad)}",
                    "rename those options in Accelo (no commas, no spaces at either end), "
                    "or set direction to 'to_hubspot'",
                )
            )
    if writes_hubspot(draft.direction) and hubspot.type is FieldType.multi_select:
        bad = _unwritable_options(hubspot.options or [], MULTI_SELECT_SEPARATORS["HubSpot"])
        if bad:
            problems.append(
                MappingProblem(
                    "hubspot_property",
                    f"HubSpot takes multi-select {hubspot.name!r} as its options' internal values joined by ';', "
                    f"so these options would come back split or trimmed: {', '.join(bad)}",
                    "rename those options' internal values in HubSpot (no ';', no spaces at either end), "
                    "or set direction to 'to_accelo'",
                )
            )
    return problems


def _duplicate_targets(draft: MappingDraft, others: Iterable[ExistingMapping]) -> list[MappingProblem]:
    problems = []
    for other in others:
        if (
            writes_accelo(draft.direction)
            and writes_accelo(other.direction)
            and other.accelo_field == draft.accelo_field
        ):
            problems.append(
                MappingProblem(
                    "accelo_field",
                    f"Accelo field {draft.accelo_field!r} is already written by the mapping from "
                    f"HubSpot {other.hubspot_property!r}",
                    "map a different Accelo field, or change or remove the other mapping",
                )
            )
        if (
            writes_hubspot(draft.direction)
            and writes_hubspot(other.direction)
            and other.hubspot_property == draft.hubspot_property
        ):
            problems.append(
                MappingProblem(
                    "hubspot_property",
                    f"HubSpot property {draft.hubspot_property!r} is already written by the mapping from "
                    f"Accelo {other.accelo_field!r}",
                    "map a different HubSpot property, or change or remove the other mapping",
                )
            )
    return problems
