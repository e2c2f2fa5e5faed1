"""Every transform is round-trip stable, or two systems that normalise differently ping-pong forever."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from interlink.mappings.canonical import (
    Canonical,
    FieldType,
    InvalidValue,
    decode_accelo,
    decode_hubspot,
    encode_accelo,
    encode_hubspot,
)
from interlink.mappings.codec import MappingCodec, codec_for

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
