"""Accelo's wire values, turned into Python types at the edge (and back, for requests).

Accelo sends ids, unix timestamps, counts and flags as JSON strings (``"id": "45"``,
``"date_modified": "1495671183"``, ``"staff_bookmarked": "0"``, ``"required": "no"``), and ``"0"`` for an
absent link (``"parent_id": "0"``). These annotated types accept both the strings and real numbers, so a
model validates Accelo's answers and the simulator's alike.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator


def parse_id(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("an id, not a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise ValueError(f"expected an unsigned id, got {value!r}")


def parse_reference(value: Any) -> int | None:
    """A link to another record: ``None``, ``""`` and ``"0"`` mean no link."""
    if value is None or value == "" or value == "0" or value == 0:
        return None
    return parse_id(value)


def parse_timestamp(value: Any) -> datetime | None:
    """A unix timestamp (string or number) as an aware UTC datetime; ``None``, ``""`` and ``"0"`` are none."""
    if value is None or value == "" or value == "0" or value == 0:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, bool):
        raise ValueError("a timestamp, not a boolean")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, tz=UTC)
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return datetime.fromtimestamp(int(text), tz=UTC)
    raise ValueError(f"expected a unix timestamp, got {value!r}")


_TRUE = {"1", "yes", "true", "y"}
_FALSE = {"0", "no", "false", "n", ""}


def parse_flag(value: Any) -> bool | None:
    """``"1"``/``"0"``, ``"yes"``/``"no"`` (both are used) and real booleans."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise ValueError(f"expected a flag (1/0, yes/no), got {value!r}")


def parse_count(value: Any) -> int:
    return parse_id(value)


def parse_optional_int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    return parse_id(value)


def parse_text(value: Any) -> str | None:
    """Strings stay strings; numbers (Accelo is not consistent) become their text."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, str):
        return value
    raise ValueError(f"expected text, got {type(value).__name__}")


def parse_text_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(item) for item in value]
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    raise ValueError(f"expected a list of strings, got {type(value).__name__}")


def parse_decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"expected a decimal number, got {value!r}") from None


AcceloId = Annotated[int, BeforeValidator(parse_id)]
Reference = Annotated[int | None, BeforeValidator(parse_reference)]
Timestamp = Annotated[datetime | None, BeforeValidator(parse_timestamp)]
Flag = Annotated[bool | None, BeforeValidator(parse_flag)]
Count = Annotated[int, BeforeValidator(parse_count)]
OptionalInt = Annotated[int | None, BeforeValidator(parse_optional_int)]
Text = Annotated[str | None, BeforeValidator(parse_text)]
TextList = Annotated[list[str], BeforeValidator(parse_text_list)]


# -- requests ---------------------------------------------------------------------------------------------


def to_unix(value: datetime | date | int | float) -> int:
    """A moment as Accelo's unix seconds (naive datetimes are taken as UTC)."""
    if isinstance(value, bool):
        raise TypeError("a moment, not a boolean")
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return int(aware.timestamp())
    return int(datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp())


def wire_text(value: object) -> str:
    """A request parameter as Accelo reads it: text, with booleans as ``1``/``0``."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime | date):
        return str(to_unix(value))
    return str(value)
