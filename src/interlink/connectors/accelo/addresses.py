"""Addresses of companies and contacts (``/addresses``; Accelo's docs misspell it ``/adddresses``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from interlink.connectors.accelo.api import AcceloApi
from interlink.connectors.accelo.errors import NotWritable
from interlink.connectors.accelo.query import Filter, Query, nested
from interlink.connectors.accelo.schemas import RESOURCE_PATHS, Address, ObjectType

ADDRESS_FIELDS = (
    "title",
    "full",
    "street1",
    "street2",
    "city",
    "zipcode",
    nested("state", "title", "abbreviation"),
    nested("country", "title"),
    "postal",
    "physical",
)
# state/country take a name or an id; postcode is Accelo's synonym for zipcode.
ADDRESS_WRITABLE_FIELDS = frozenset(
    {
        "title",
        "street1",
        "street2",
        "city",
        "zipcode",
        "postcode",
        "state",
        "state_id",
        "country",
        "country_id",
        "postal",
        "physical",
    }
)


def _check(changes: Mapping[str, object]) -> None:
    refused = sorted(set(changes) - ADDRESS_WRITABLE_FIELDS)
    if refused:
        raise NotWritable(
            f"Accelo does not let the API write {', '.join(refused)} on an address; "
            f"writable: {', '.join(sorted(ADDRESS_WRITABLE_FIELDS))}"
        )


class Addresses:
    def __init__(self, api: AcceloApi) -> None:
        self.api = api

    def get(self, address_id: int, *, fields: Iterable[str] | None = None) -> Address:
        return self.api.one(
            Address,
            f"/addresses/{address_id}",
            route="/addresses/{id}",
            query=Query(fields=tuple(fields) if fields is not None else ADDRESS_FIELDS),
            record=("addresses", address_id),
        )

    def get_many(self, address_ids: Iterable[int]) -> dict[int, Address]:
        return self.api.many(Address, "/addresses", address_ids, route="/addresses", query=Query(fields=ADDRESS_FIELDS))

    def iterate(self, *filters: Filter) -> Iterator[Address]:
        """E.g. ``filter_term("against_type", "company")``, ``filter_term("postal", 1)``."""
        query = Query(fields=ADDRESS_FIELDS, filters=filters, limit=100)
        return self.api.iterate(Address, "/addresses", route="/addresses", query=query)

    def of_record(self, object_type: ObjectType, record_id: int) -> list[Address]:
        collection = RESOURCE_PATHS[object_type]
        query = Query(fields=ADDRESS_FIELDS, limit=100)
        route = f"/{collection}/{{id}}/addresses"
        return list(self.api.iterate(Address, f"/{collection}/{record_id}/addresses", route=route, query=query))

    def create(self, object_type: ObjectType, record_id: int, fields: Mapping[str, object]) -> Address:
        """A new address against a company or contact (``POST /addresses`` with ``against_type`` and
        ``against_id``)."""
        _check(fields)
        form = {"against_type": object_type, "against_id": record_id, **fields}
        return self.api.one(
            Address,
            "/addresses",
            route="/addresses",
            method="POST",
            form=form,
            query=Query(fields=ADDRESS_FIELDS),
        )

    def update(self, address_id: int, changes: Mapping[str, object]) -> Address:
        _check(changes)
        return self.api.one(
            Address,
            f"/addresses/{address_id}",
            route="/addresses/{id}",
            method="PUT",
            form=changes,
            query=Query(fields=ADDRESS_FIELDS),
            record=("addresses", address_id),
        )

    def count(self, *filters: Filter) -> int:
        return self.api.count("/addresses/count", route="/addresses/count", query=Query(filters=filters))
