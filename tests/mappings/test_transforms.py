"""Every transform is round-trip stable, or two systems that normalise differently ping-pong forever."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from interlink.connectors.accelo.custom_fields import profile_value_params
from interlink.mappings.canonical import (
    Canonical,
    FieldType,
    InvalidValue,
    canonical_multi,
    decode_accelo,
    decode_hubspot,
    encode_accelo,
    encode_hubspot,
)
from interlink.mappings.codec import SAFE_CONVERSIONS, MappingCodec, codec_for
from interlink.mappings.fields import FieldSpec
from interlink.mappings.validation import MappingDraft, validate_mapping

text = st.text(min_size=1).filter(lambda s: s.strip() != "")
numbers = (
    st.decimals(allow_nan=False, allow_infinity=False, places=6, min_value=-(10**12), max_value=10**12)
    .map(lambda d: str(d.normalize()) if d != 0 else "0")
    .map(lambda s: format(Decimal(s).normalize(), "f") if s != "0" else "0")
)
dates = st.dates(min_value=date(1971, 1, 1), max_value=date(2200, 12, 31)).map(date.isoformat)
datetimes = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1)).map(
    lambda d: d.replace(microsecond=0, tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
)
option = st.text(alphabet=st.characters(categories=["L", "N"]), min_size=1, max_size=12)
multi = st.lists(option, min_size=1, max_size=5, unique=True).map(sorted)

CANONICAL: dict[FieldType, st.SearchStrategy[Canonical]] = {
    FieldType.string: text,
    FieldType.number: numbers,
    FieldType.date: dates,
    FieldType.datetime: datetimes,
    FieldType.bool: st.booleans(),
    FieldType.enumeration: option,
    FieldType.multi_select: multi,
}


@pytest.mark.parametrize("field_type", list(FieldType))
def test_every_codec_round_trips_every_canonical_value(field_type: FieldType) -> None:
    @given(st.one_of(st.none(), CANONICAL[field_type]))
    def round_trip(value: Canonical) -> None:
        assert decode_hubspot(field_type, encode_hubspot(field_type, value)) == value
        assert decode_accelo(field_type, encode_accelo(field_type, value)) == value

    round_trip()


@pytest.mark.parametrize("field_type", list(FieldType))
def test_decoding_is_idempotent_on_raw_values(field_type: FieldType) -> None:
    """Whatever a system sends, once canonical it stays put: decode(encode(decode(raw))) == decode(raw)."""

    @given(st.one_of(st.text(max_size=30), st.integers(-(10**12), 10**12).map(str)))
    def stable(raw: str) -> None:
        for decode, encode in ((decode_hubspot, encode_hubspot), (decode_accelo, encode_accelo)):
            try:
                once = decode(field_type, raw)
            except InvalidValue:
                continue
            assert decode(field_type, encode(field_type, once)) == once

    stable()


@pytest.mark.parametrize(
    ("field_type", "hubspot_raw", "accelo_raw", "canonical"),
    [
        (FieldType.number, "12.50", "12.5", "12.5"),
        (FieldType.number, "1,000", "1000.000", "1000"),
        (FieldType.date, "2026-03-01", "1772323200", "2026-03-01"),
        (FieldType.date, "1772323200000", "1772323200", "2026-03-01"),  # HubSpot millisecond dates
        (FieldType.datetime, "2026-03-01T10:20:30.456Z", "1772360430", "2026-03-01T10:20:30Z"),
        (FieldType.bool, "true", "1", True),
        (FieldType.bool, "false", "no", False),
        (FieldType.multi_select, "b;a;b", "a, b", ["a", "b"]),
        (FieldType.string, "", None, None),
    ],
)
def test_the_two_systems_spellings_meet_in_one_canonical_value(
    field_type: FieldType, hubspot_raw: str, accelo_raw: str | None, canonical: Canonical
) -> None:
    assert decode_hubspot(field_type, hubspot_raw) == canonical
    assert decode_accelo(field_type, accelo_raw) == canonical


@given(st.lists(st.sampled_from(["Gold", "Silver", "Bronze"]), min_size=1, unique=True).map(sorted))
def test_value_maps_round_trip_through_accelo(values: list[str]) -> None:
    codec = MappingCodec(
        FieldType.multi_select,
        FieldType.multi_select,
        FieldType.multi_select,
        {"Gold": "Tier 1", "Silver": "Tier 2"},
    )
    assert codec.from_accelo(codec.to_accelo(values)) == values
    assert codec.from_hubspot(codec.to_hubspot(values)) == values


def test_one_way_conversions_compare_in_the_targets_type() -> None:
    codec = codec_for(FieldType.number, FieldType.string, "to_accelo")
    assert codec.canonical_type is FieldType.string
    assert codec.from_hubspot("12.50") == "12.5"
    assert codec.from_accelo("12.5") == "12.5"  # no change, so nothing to write
    with pytest.raises(InvalidValue, match="cannot be mapped both"):
        codec_for(FieldType.number, FieldType.string, "both")


def test_bad_raw_values_raise_a_clear_error() -> None:
    with pytest.raises(InvalidValue, match="not a number"):
        decode_hubspot(FieldType.number, "twelve")
    with pytest.raises(InvalidValue, match="not a date"):
        decode_accelo(FieldType.date, "someday")


# -- one-way conversions -------------------------------------------------------------------------------------

ONE_WAY = [
    (source, target, direction)
    for source, targets in SAFE_CONVERSIONS.items()
    for target in sorted(targets)
    for direction in ("to_accelo", "to_hubspot")
]
SIDES = {
    "hubspot": (decode_hubspot, encode_hubspot),
    "accelo": (decode_accelo, encode_accelo),
}


@pytest.mark.parametrize(("source", "target", "direction"), ONE_WAY)
def test_a_one_way_conversion_written_to_its_target_reads_back_unchanged(
    source: FieldType, target: FieldType, direction: str
) -> None:
    """The converted value is what the target holds after our write; re-reading it must compare equal, or every
    later event about the record would see a change and write again."""
    source_side, target_side = ("hubspot", "accelo") if direction == "to_accelo" else ("accelo", "hubspot")
    hubspot_type, accelo_type = (source, target) if direction == "to_accelo" else (target, source)
    codec = codec_for(hubspot_type, accelo_type, direction)
    assert codec.canonical_type is target
    read_source = codec.from_hubspot if source_side == "hubspot" else codec.from_accelo
    read_target = codec.from_hubspot if target_side == "hubspot" else codec.from_accelo
    write_target = codec.to_hubspot if target_side == "hubspot" else codec.to_accelo
    encode_source = SIDES[source_side][1]

    @given(CANONICAL[source])
    def stable(value: Canonical) -> None:
        converted = read_source(encode_source(source, value))
        assert converted is not None
        assert read_target(write_target(converted)) == converted
        # and the target's own codec sees a canonical value of its type (no second normalisation pending)
        decode, encode = SIDES[target_side]
        assert decode(target, encode(target, converted)) == converted

    stable()


@pytest.mark.parametrize(
    ("source", "target", "hubspot_raw", "accelo_raw", "converted"),
    [
        (FieldType.number, FieldType.string, "12.50", "12.5", "12.5"),
        (FieldType.bool, FieldType.string, "true", "true", "true"),
        (FieldType.enumeration, FieldType.string, "gold", "gold", "gold"),
        (FieldType.enumeration, FieldType.multi_select, "gold", ["gold"], ["gold"]),
        (FieldType.date, FieldType.datetime, "1772323200000", "1772323200", "2026-03-01T00:00:00Z"),
        (FieldType.date, FieldType.string, "2026-03-01", "2026-03-01", "2026-03-01"),
        (FieldType.datetime, FieldType.date, "2026-03-01T23:59:59.999Z", "1772323200", "2026-03-01"),
        (FieldType.datetime, FieldType.string, "1772360430000", "2026-03-01T10:20:30Z", "2026-03-01T10:20:30Z"),
        (FieldType.multi_select, FieldType.string, "b;a", "a; b", "a; b"),
    ],
)
def test_a_hubspot_value_converted_for_accelo_equals_what_accelo_then_holds(
    source: FieldType, target: FieldType, hubspot_raw: str, accelo_raw: Any, converted: Canonical
) -> None:
    codec = codec_for(source, target, "to_accelo")
    assert codec.from_hubspot(hubspot_raw) == converted
    assert codec.from_accelo(accelo_raw) == converted  # so reconcile sees nothing to write


# -- value maps ----------------------------------------------------------------------------------------------

options = st.lists(option, min_size=1, max_size=6, unique=True)


@given(hubspot_options=options, accelo_options=options, data=st.data())
def test_a_two_way_enumeration_value_map_that_validation_accepts_round_trips_every_option(
    hubspot_options: list[str], accelo_options: list[str], data: st.DataObject
) -> None:
    value_map = data.draw(
        st.dictionaries(st.sampled_from(hubspot_options), st.sampled_from(accelo_options), max_size=6),
        label="value_map",
    )
    hubspot = FieldSpec(name="tier", label="Tier", type=FieldType.enumeration, options=hubspot_options)
    accelo = FieldSpec(name="profile:1", label="Tier", type=FieldType.enumeration, options=accelo_options)
    draft = MappingDraft("company", "tier", "profile:1", "both", value_map)
    problems = validate_mapping(draft, {"tier": hubspot}, {"profile:1": accelo})
    if problems:
        assert all(problem.field == "value_map" for problem in problems)
        return
    codec = codec_for(FieldType.enumeration, FieldType.enumeration, "both", value_map)
    for value in hubspot_options:
        written = codec.to_accelo(value)
        assert written in accelo_options
        assert codec.from_accelo(written) == value  # or HubSpot would be rewritten to another option
        assert codec.from_hubspot(codec.to_hubspot(value)) == value
    for value in accelo_options:
        canonical = codec.from_accelo(value)
        assert canonical in hubspot_options
        assert codec.to_accelo(canonical) == value


def test_an_enumeration_value_map_translates_both_ways() -> None:
    codec = codec_for(FieldType.enumeration, FieldType.enumeration, "both", {"lead": "Prospect", "customer": "Active"})
    assert codec.to_accelo("lead") == "Prospect"
    assert codec.from_accelo("Active") == "customer"
    assert codec.from_accelo("Inactive") == "Inactive"  # unmapped options pass through as they are
    assert codec.from_hubspot("lead") == "lead"  # canonical values are HubSpot's options


def test_an_unmapped_option_that_collides_with_a_mapped_target_is_refused() -> None:
    # HubSpot "Active" would go to Accelo "Active" unmapped, and "customer" is mapped there too: Accelo's
    # "Active" could not say which HubSpot option it came from.
    hubspot = FieldSpec(name="tier", label="Tier", type=FieldType.enumeration, options=["customer", "Active"])
    accelo = FieldSpec(name="profile:1", label="Tier", type=FieldType.enumeration, options=["Active"])
    draft = MappingDraft("company", "tier", "profile:1", "both", {"customer": "Active"})
    (found,) = validate_mapping(draft, {"tier": hubspot}, {"profile:1": accelo})
    assert found.field == "value_map"
    assert "'Active'" in found.message
    assert "one-to-one" in found.fix


# -- multi-select options that hold the systems' separators ------------------------------------------------

awkward_option = st.one_of(
    option,
    st.text(alphabet=st.sampled_from(list("ab ,;é日\u00a0")), min_size=1, max_size=8),
    st.sampled_from(["Sydney, NSW", "R&D; Labs", " padded", "trailing ", "Zürich", "東京", "a,b", "x;y"]),
).filter(lambda s: s.strip() != "")


def hubspot_wire(values: list[str]) -> str:
    return encode_hubspot(FieldType.multi_select, values)


def accelo_wire(codec: MappingCodec, values: list[str]) -> str:
    """What Accelo holds (and reads back in ``value``) after Interlink writes a multi-select profile value."""
    return profile_value_params("multi_select", codec.to_accelo(values))["value"]


@given(st.lists(awkward_option, min_size=1, max_size=5, unique=True), st.data())
def test_multi_select_options_either_round_trip_through_both_wires_or_the_mapping_is_refused(
    field_options: list[str], data: st.DataObject
) -> None:
    hubspot = FieldSpec(name="regions", label="Regions", type=FieldType.multi_select, options=field_options)
    accelo = FieldSpec(name="profile:1", label="Regions", type=FieldType.multi_select, options=field_options)
    draft = MappingDraft("company", "regions", "profile:1", "both")
    problems = validate_mapping(draft, {"regions": hubspot}, {"profile:1": accelo})
    breaks_hubspot = [o for o in field_options if ";" in o or o != o.strip()]
    breaks_accelo = [o for o in field_options if "," in o or o != o.strip()]
    if breaks_hubspot or breaks_accelo:
        named = " ".join(problem.message for problem in problems)
        assert all(repr(o) in named for o in breaks_hubspot + breaks_accelo), (problems, field_options)
        return
    assert problems == []
    codec = codec_for(FieldType.multi_select, FieldType.multi_select, "both")
    chosen = sorted(data.draw(st.lists(st.sampled_from(field_options), min_size=1, unique=True)))
    assert canonical_multi(chosen, ";") == chosen
    assert codec.from_hubspot(hubspot_wire(chosen)) == chosen
    assert codec.from_accelo(accelo_wire(codec, chosen)) == chosen


def test_an_option_holding_a_separator_splits_on_the_wire() -> None:
    """Why such options are refused: the joined form cannot tell one option from two."""
    codec = codec_for(FieldType.multi_select, FieldType.multi_select, "both")
    assert codec.from_accelo(accelo_wire(codec, ["Sydney, NSW"])) == ["NSW", "Sydney"]
    assert codec.from_hubspot(hubspot_wire(["R&D; Labs"])) == ["Labs", "R&D"]
    assert codec.from_accelo(["Sydney, NSW"]) == ["Sydney, NSW"]  # Accelo's ``values`` list keeps it whole


@pytest.mark.parametrize(
    ("direction", "hubspot_options", "accelo_options", "value_map", "field", "message", "fix"),
    [
        ("both", ["apac", "emea"], ["apac", "emea, uk"], {"emea": "emea, uk"}, "accelo_field", "'emea, uk'", "Accelo"),
        (
            "to_accelo",
            ["apac", "emea"],
            ["apac", "emea, uk"],
            {"emea": "emea, uk"},
            "accelo_field",
            "(contains ',')",
            "'to_hubspot'",
        ),
        ("both", ["apac", "emea;uk"], ["apac", "emea;uk"], None, "hubspot_property", "(contains ';')", "HubSpot"),
        (
            "to_hubspot",
            ["apac", " emea"],
            ["apac", " emea"],
            None,
            "hubspot_property",
            "' emea' (starts or ends",
            "'to_accelo'",
        ),
    ],
)
def test_a_multi_select_written_with_options_its_wire_cannot_hold_is_refused_with_the_fix(
    direction: str,
    hubspot_options: list[str],
    accelo_options: list[str],
    value_map: dict[str, str] | None,
    field: str,
    message: str,
    fix: str,
) -> None:
    hubspot = FieldSpec(name="regions", label="Regions", type=FieldType.multi_select, options=hubspot_options)
    accelo = FieldSpec(name="profile:1", label="Regions", type=FieldType.multi_select, options=accelo_options)
    draft = MappingDraft("company", "regions", "profile:1", direction, value_map)
    (found,) = validate_mapping(draft, {"regions": hubspot}, {"profile:1": accelo})
    assert found.field == field
    assert "would come back split or trimmed" in found.message
    assert message in found.message
    assert found.fix.startswith("rename those options")
    assert fix in found.fix


def test_a_comma_in_an_accelo_option_is_fine_when_the_mapping_only_reads_it() -> None:
    hubspot = FieldSpec(name="regions", label="Regions", type=FieldType.multi_select, options=["sydney"])
    accelo = FieldSpec(name="profile:1", label="Regions", type=FieldType.multi_select, options=["Sydney, NSW"])
    draft = MappingDraft("company", "regions", "profile:1", "to_hubspot", {"sydney": "Sydney, NSW"})
    assert validate_mapping(draft, {"regions": hubspot}, {"profile:1": accelo}) == []
