"""One canonical form per value type, and the codecs between it and each system's wire format.

Every comparison in a sync (has this field changed? do the two sides agree?) happens on canonical values, so
two systems that spell the same value differently never look different. Each codec is round-trip stable:
``decode(encode(c)) == c`` for every canonical ``c``. Without that, a value written to one side would come
back looking changed, and the two systems would ping-pong forever.

Canonical forms (all JSON-safe, so snapshots and the ledger store them as they are):

==============  =====================================  ==================================================
type            canonical                              notes
==============  =====================================  ==================================================
string          ``str`` (never empty)                  ``""`` and missing are both ``None`` (cleared)
number          ``str`` of a normalised decimal        ``"12.5"``, ``"-3"``, ``"0.001"``; no exponent
date            ``"YYYY-MM-DD"``                       HubSpot: ISO date or midnight-UTC epoch millis;
                                                       Accelo: unix seconds
datetime        ``"YYYY-MM-DDTHH:MM:SSZ"`` (UTC)       seconds precision: Accelo keeps no more, so
                                                       milliseconds would never agree
bool            ``True`` / ``False``                   HubSpot ``"true"``; Accelo ``"1"``/``"yes"``
enumeration     ``str`` option value                   translated through the mapping's value map
multi_select    sorted ``list[str]`` without repeats   HubSpot ``"a;b"``; Accelo ``"a, b"`` / ``values``
==============  =====================================  ==================================================
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, TypeAlias

Canonical: TypeAlias = str | bool | list[str] | None


class FieldType(StrEnum):
    string = "string"
    number = "number"
    date = "date"
    datetime = "datetime"
    bool = "bool"
    enumeration = "enumeration"
    multi_select = "multi_select"


class InvalidValue(ValueError):
    """A raw value that cannot be read as its field's type (e.g. ``"abc"`` for a number)."""


_TRUE = {"true", "1", "yes", "y", "on"}
_FALSE = {"false", "0", "no", "n", "off"}
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and raw.strip() == "") or raw == []


# -- canonicalisers shared by both systems -----------------------------------------------------------------


def canonical_number(raw: Any) -> str | None:
    if _blank(raw):
        return None
    if isinstance(raw, bool):
        raise InvalidValue(f"{raw!r} is not a number")
    try:
        number = Decimal(str(raw).strip().replace(",", "")) if isinstance(raw, str) else Decimal(str(raw))
    except InvalidOperation:
        raise InvalidValue(f"{raw!r} is not a number") from None
    if not number.is_finite():
        raise InvalidValue(f"{raw!r} is not a finite number")
    if number == 0:
        return "0"
    text = format(number.normalize(), "f")
    return text


def canonical_bool(raw: Any) -> bool | None:
    if _blank(raw):
        return None
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidValue(f"{raw!r} is not a yes/no value")


def canonical_string(raw: Any) -> str | None:
    if _blank(raw):
        return None
    return str(raw)


def canonical_multi(raw: Any, separator: str) -> list[str] | None:
    if _blank(raw):
        return None
    items = raw if isinstance(raw, list) else str(raw).split(separator)
    cleaned = sorted({str(item).strip() for item in items if str(item).strip()})
    return cleaned or None


def _from_epoch_seconds(seconds: float) -> datetime:
    try:
        return datetime.fromtimestamp(int(seconds), tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise InvalidValue(f"{seconds!r} seconds since 1970 is not a representable time") from None


def _date_from_epoch_seconds(seconds: float) -> str:
    return _from_epoch_seconds(seconds).date().isoformat()


def _iso_seconds(moment: datetime) -> str:
    # isoformat, not strftime: strftime does not zero-pad years before 1000 on every platform.
    return moment.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat(timespec="seconds") + "Z"


def _datetime_from_epoch_seconds(seconds: float) -> str:
    return _iso_seconds(_from_epoch_seconds(seconds))


def _parse_iso_datetime(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def canonical_date(raw: Any, *, epoch_unit: float) -> str | None:
    """``epoch_unit`` is 1000 when bare numbers are milliseconds (HubSpot), 1 when seconds (Accelo)."""
    if _blank(raw):
        return None
    text = str(raw).strip()
    if _DATE_ONLY.match(text):
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise InvalidValue(f"{raw!r} is not a date") from None
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        return _date_from_epoch_seconds(float(text) / epoch_unit)
    try:
        return _parse_iso_datetime(text).astimezone(UTC).date().isoformat()
    except ValueError:
        raise InvalidValue(f"{raw!r} is not a date") from None


def canonical_datetime(raw: Any, *, epoch_unit: float) -> str | None:
    if _blank(raw):
        return None
    text = str(raw).strip()
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        return _datetime_from_epoch_seconds(float(text) / epoch_unit)
    try:
        parsed = _parse_iso_datetime(text)
    except ValueError:
        raise InvalidValue(f"{raw!r} is not a date and time") from None
    return _iso_seconds(parsed)


def _epoch_seconds(canonical: str) -> int:
    return int(_parse_iso_datetime(canonical).timestamp())


# -- the two systems' codecs -------------------------------------------------------------------------------


def decode_hubspot(field_type: FieldType, raw: Any) -> Canonical:
    """A HubSpot property value (always a string on the wire) in canonical form."""
    match field_type:
        case FieldType.string | FieldType.enumeration:
            return canonical_string(raw)
        case FieldType.number:
            return canonical_number(raw)
        case FieldType.bool:
            return canonical_bool(raw)
        case FieldType.date:
            return canonical_date(raw, epoch_unit=1000)
        case FieldType.datetime:
            return canonical_datetime(raw, epoch_unit=1000)
        case FieldType.multi_select:
            return canonical_multi(raw, ";")


def encode_hubspot(field_type: FieldType, value: Canonical) -> str:
    """What to send HubSpot for a canonical value. ``""`` clears a property."""
    if value is None:
        return ""
    match field_type:
        case FieldType.bool:
            return "true" if value else "false"
        case FieldType.multi_select:
            assert isinstance(value, list)
            return ";".join(value)
        case FieldType.datetime:
            assert isinstance(value, str)
            return _iso_seconds(_parse_iso_datetime(value)).replace("Z", ".000Z")
        case _:
            return str(value)


def decode_accelo(field_type: FieldType, raw: Any) -> Canonical:
    """An Accelo value (string-typed ids, unix-second timestamps, ``"a, b"`` lists) in canonical form."""
    match field_type:
        case FieldType.string | FieldType.enumeration:
            return canonical_string(raw)
        case FieldType.number:
            return canonical_number(raw)
        case FieldType.bool:
            return canonical_bool(raw)
        case FieldType.date:
            return canonical_date(raw, epoch_unit=1)
        case FieldType.datetime:
            return canonical_datetime(raw, epoch_unit=1)
        case FieldType.multi_select:
            return canonical_multi(raw, ",")


def encode_accelo(field_type: FieldType, value: Canonical) -> str | list[str] | None:
    """What to send Accelo for a canonical value (None clears it)."""
    if value is None:
        return None
    match field_type:
        case FieldType.bool:
            return "1" if value else "0"
        case FieldType.multi_select:
            assert isinstance(value, list)
            return list(value)
        case FieldType.date:
            assert isinstance(value, str)
            return str(int(datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC).timestamp()))
        case FieldType.datetime:
            assert isinstance(value, str)
            return str(_epoch_seconds(value))
        case _:
            return str(value)
