"""Profile fields (Accelo's custom fields, read and written) and segmentations (categories, read-only).

A profile value is written with the one parameter its field's type takes (Accelo's docs):
``value_int`` for integer, ``value_date`` for date (unix timestamp or ISO 8601), ``value_id`` plus
``value_type`` for lookup, and ``value`` (text) for everything else. ``profile_value_params`` picks it.
Two choices are **unconfirmed** by Accelo's docs: ``date_time`` fields are written through ``value_date``
(it accepts ISO 8601, which carries the time), and a multi_select is written as its options joined by
``", "`` (the form Accelo reads them back in).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal

from interlink.connectors.accelo.api import AcceloApi
from interlink.connectors.accelo.query import ALL_FIELDS, Filter, Query
from interlink.connectors.accelo.schemas import (
    RESOURCE_PATHS,
    ObjectType,
    ProfileField,
    ProfileValue,
    Segmentation,
    SegmentationValue,
)
from interlink.connectors.accelo.values import to_unix

ProfileInput = str | int | Decimal | float | date | datetime | Sequence[str] | None

PROFILE_FIELD_FIELDS = (
    "parent_id",
    "link_type",
    "required",
    "restrictions",
    "exported",
    "lookup_type",
    "options",
    "confidential",
    "description",
)
PROFILE_VALUE_FIELDS = (ALL_FIELDS,)


def profile_value_params(
    field_type: str | None, value: ProfileInput, *, lookup_type: str | None = None
) -> dict[str, str]:
    """The request parameters that set a profile value of this type. ``None`` clears the value."""
    kind = (field_type or "text").strip()
    if kind == "integer":
        if value is None:
            return {"value_int": ""}
        if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().lstrip("-").isdigit():
            raise ValueError(f"an integer profile field needs a whole number, got {value!r}")
        return {"value_int": str(int(value))}
    if kind in ("date", "date_time"):
        if value is None:
            return {"value_date": ""}
        if isinstance(value, datetime):
            return {"value_date": value.isoformat()}
        if isinstance(value, date):
            return {"value_date": value.isoformat()}
        if isinstance(value, int) and not isinstance(value, bool):
            return {"value_date": str(value)}
        if isinstance(value, str):
            return {"value_date": value}
        raise ValueError(f"a {kind} profile field needs a date, got {value!r}")
    if kind == "lookup":
        if value is None:
            return {"value_id": "", "value_type": lookup_type or ""}
        if not lookup_type:
            raise ValueError("a lookup profile value needs the field's lookup_type")
        if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
            raise ValueError(f"a lookup profile field needs a record id, got {value!r}")
        return {"value_id": str(int(value)), "value_type": lookup_type}
    if value is None:
        return {"value": ""}
    if kind == "multi_select":
        if isinstance(value, str):
            return {"value": value}
        if isinstance(value, Sequence):
            return {"value": ", ".join(str(option) for option in value)}
        raise ValueError(f"a multi_select profile field needs a list of options, got {value!r}")
    if kind in ("decimal", "currency"):
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
            raise ValueError(f"a {kind} profile field needs a number, got {value!r}")
        return {"value": str(value)}
    if isinstance(value, datetime | date):
        return {"value": str(to_unix(value))}
    if isinstance(value, str | int | float | Decimal):
        return {"value": str(value)}
    raise ValueError(f"a {kind} profile field needs text, got {type(value).__name__}")


class Profiles:
    def __init__(self, api: AcceloApi) -> None:
        self.api = api

    def fields(self, object_type: ObjectType) -> list[ProfileField]:
        """The profile field definitions for companies, contacts or affiliations."""
        path = f"/{RESOURCE_PATHS[object_type]}/profiles/fields"
        query = Query(fields=PROFILE_FIELD_FIELDS, limit=100)
        return list(self.api.iterate(ProfileField, path, route=path, query=query))

    def values_of(self, object_type: ObjectType, record_id: int) -> list[ProfileValue]:
        """One record's profile values (with their field ids and modification times)."""
        collection = RESOURCE_PATHS[object_type]
        payload = self.api.call(
            "GET",
            f"/{collection}/{record_id}/profiles/values",
            route=f"/{collection}/{{id}}/profiles/values",
            query=Query(fields=PROFILE_VALUE_FIELDS, limit=100),
            record=(collection, record_id),
        )
        return self.api.parse_list(ProfileValue, payload, f"/{collection}/{{id}}/profiles/values")

    def iterate_values(
        self, object_type: ObjectType, *filters: Filter, page_size: int = 100, most: int | None = None
    ) -> Iterator[ProfileValue]:
        """Profile values of every record of the type (filters: ``field_id``, ``link_id``,
        ``order_by_desc(date_modified)``, …). A record holds one value per field, so filtering by records and
        fields bounds the count: pass it as ``most`` and the last, empty page is not asked for."""
        path = f"/{RESOURCE_PATHS[object_type]}/profiles/values"
        query = Query(fields=PROFILE_VALUE_FIELDS, filters=filters, limit=page_size)
        return self.api.iterate(ProfileValue, path, route=path, query=query, most=most)

    def set_value(
        self,
        object_type: ObjectType,
        record_id: int,
        field: ProfileField,
        value: ProfileInput,
        *,
        value_id: int | None = None,
    ) -> ProfileValue:
        """Create (``POST /{object}/{id}/profiles/fields/{field_id}``) or, with the existing value's id,
        update (``PUT /{object}/{id}/profiles/values/{value_id}``) one profile value."""
        collection = RESOURCE_PATHS[object_type]
        params = profile_value_params(field.field_type, value, lookup_type=field.lookup_type)
        query = Query(fields=PROFILE_VALUE_FIELDS)
        if value_id is None:
            return self.api.one(
                ProfileValue,
                f"/{collection}/{record_id}/profiles/fields/{field.id}",
                route=f"/{collection}/{{id}}/profiles/fields/{{field_id}}",
                method="POST",
                form=params,
                query=query,
                record=(collection, record_id),
            )
        return self.api.one(
            ProfileValue,
            f"/{collection}/{record_id}/profiles/values/{value_id}",
            route=f"/{collection}/{{id}}/profiles/values/{{value_id}}",
            method="PUT",
            form=params,
            query=query,
            record=(collection, record_id),
        )


class Segmentations:
    """Categories. Accelo's API can read them but not write them, so they can only flow to HubSpot."""

    def __init__(self, api: AcceloApi) -> None:
        self.api = api

    def definitions(self, *filters: Filter) -> list[Segmentation]:
        query = Query(fields=(ALL_FIELDS,), filters=filters, limit=100)
        return list(self.api.iterate(Segmentation, "/segmentations", route="/segmentations", query=query))

    def get(self, segmentation_id: int) -> Segmentation:
        return self.api.one(
            Segmentation,
            f"/segmentations/{segmentation_id}",
            route="/segmentations/{id}",
            query=Query(fields=(ALL_FIELDS,)),
            record=("segmentations", segmentation_id),
        )

    def count(self) -> int:
        return self.api.count("/segmentations/count", route="/segmentations/count")

    def of_record(self, object_type: ObjectType, record_id: int) -> list[SegmentationValue]:
        """A company's or contact's category values."""
        collection = RESOURCE_PATHS[object_type]
        payload = self.api.call(
            "GET",
            f"/{collection}/{record_id}/segmentations",
            route=f"/{collection}/{{id}}/segmentations",
            record=(collection, record_id),
        )
        return self.api.parse_list(SegmentationValue, payload, f"/{collection}/{{id}}/segmentations")

    def of_records(self, object_type: ObjectType, record_ids: Iterable[int]) -> dict[int, list[SegmentationValue]]:
        """Category values of several records (one call each: Accelo has no bulk read for them)."""
        return {record_id: self.of_record(object_type, record_id) for record_id in record_ids}
