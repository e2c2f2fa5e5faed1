"""Search through the client: lazy paging, and walking past HubSpot's 10,000-result cap without losing any."""

from __future__ import annotations

import pytest

from interlink.connectors.hubspot.client import HubSpotClient
from interlink.connectors.hubspot.errors import HubSpotSearchTooLarge
from interlink.connectors.hubspot.schemas import Filter, FilterGroup, Sort
from interlink.simulators.hubspot import HubSpotSimulator

SEARCH_ROUTE = "/crm/v3/objects/{object_type}/search"
T0 = 1_700_000_000_000


def test_search_pages_lazily_past_the_first_page(hubspot: HubSpotClient, simulator: HubSpotSimulator) -> None:
    simulator.seed("contacts", [{"email": f"a{n}@acme.example", "lifecyclestage": "lead"} for n in range(450)])
    simulator.seed("contacts", [{"email": f"b{n}@other.example"} for n in range(30)])
    simulator.calls.reset()

    found = hubspot.contacts.search(
        [FilterGroup.of(Filter.of("email", "CONTAINS_TOKEN", "*@acme.example"))], properties=["email"]
    )
    first = next(found)
    assert simulator.calls.count(route=SEARCH_ROUTE) == 1  # a generator: one page at a time
    rest = list(found)
    assert len(rest) + 1 == 450
    assert all((record.get("email") or "").endswith("@acme.example") for record in [first, *rest])
    assert simulator.calls.count(route=SEARCH_ROUTE) == 3  # 200 + 200 + 50


def test_search_crosses_the_10000_cap_in_date_windows_without_dropping_or_repeating(
    hubspot: HubSpotClient, simulator: HubSpotSimulator
) -> None:
    # 3,000 records at distinct times, then a bulk import stamping 10,300 in one millisecond, then 500 more.
    def batch(count: int, stamp: int | None, prefix: str) -> list[dict[str, object]]:
        return [
            {
                "properties": {"email": f"{prefix}{n}@example.com"},
                "createdAt": stamp if stamp is not None else T0 + n,
                "updatedAt": stamp if stamp is not None else T0 + n,
            }
            for n in range(count)
        ]

    early = simulator.seed("contacts", batch(3_000, None, "early"))
    bulk = simulator.seed("contacts", batch(10_300, T0 + 5_000, "bulk"))
    late = simulator.seed(
        "contacts",
        [{"properties": {"email": f"late{n}@example.com"}, "updatedAt": T0 + 6_000 + n} for n in range(500)],
    )
    simulator.calls.reset()

    ids = [record.id for record in hubspot.contacts.search(properties=["email"])]

    assert len(ids) == len(set(ids)) == 13_800
    assert set(ids) == {*early, *bulk, *late}
    assert simulator.calls.count(route=SEARCH_ROUTE, status=400) == 0  # never asked past the cap
    assert simulator.calls.count(route=SEARCH_ROUTE, status=200) < 160


def test_a_custom_sort_over_the_cap_is_refused_before_anything_is_returned(
    hubspot: HubSpotClient, simulator: HubSpotSimulator
) -> None:
    simulator.seed("companies", [{"name": f"C{n}"} for n in range(10_001)])
    results = hubspot.companies.search(sorts=[Sort(property_name="name", direction="DESCENDING")])
    with pytest.raises(HubSpotSearchTooLarge, match="10001 companies"):
        next(results)


def test_modified_since_returns_changes_oldest_first(hubspot: HubSpotClient, simulator: HubSpotSimulator) -> None:
    ids = simulator.seed(
        "deals",
        [{"properties": {"dealname": f"D{n}"}, "updatedAt": T0 + n * 1_000} for n in range(10)],
    )
    changed = [deal.id for deal in hubspot.deals.modified_since(T0 + 6_000, properties=["dealname"])]
    assert changed == ids[6:]
    narrowed = hubspot.deals.modified_since(
        T0, filter_groups=[FilterGroup.of(Filter.of("dealname", "IN", values=["d2", "d3"]))]
    )
    assert [deal.id for deal in narrowed] == ids[2:4]
