"""Search through the client: lazy paging, and walking past HubSpot's 10,000-result cap without losing any."""

from __future__ import annotations

import pytest

from interlink.connectors.hubspot.client import HubSpotClient
from interlink.connectors.hubspot.errors import HubSpotSearchTooLarge
from interlink.connectors.hubspot.schemas import Filter, FilterGroup, Sort
from interlink.simulators.hubspot import HubSpotSimulator
from tests.connectors.hubspot.support import client_for, served

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


def test_a_company_search_past_the_cap_walks_hs_lastmodifieddate_windows_and_keeps_its_filters(
    simulator: HubSpotSimulator,
) -> None:
    """Companies carry their modification date in ``hs_lastmodifieddate`` (contacts: ``lastmodifieddate``).
    9,990 Sydney companies at distinct times, 30 stamped in one millisecond across the 10,000th result, 200
    after them, and 400 Perth companies interleaved that the filter must keep out of every window."""

    def company(city: str, n: int, stamp: int) -> dict[str, object]:
        return {"properties": {"name": f"{city} {n}", "city": city}, "createdAt": stamp, "updatedAt": stamp}

    sydney = simulator.seed("companies", [company("Sydney", n, T0 + 2 * n) for n in range(9_990)])
    sydney += simulator.seed("companies", [company("Sydney", 9_990 + n, T0 + 30_000) for n in range(30)])
    sydney += simulator.seed("companies", [company("Sydney", 10_020 + n, T0 + 40_000 + n) for n in range(200)])
    perth = simulator.seed("companies", [company("Perth", n, T0 + 50 * n + 1) for n in range(400)])
    with served(simulator, "in_process") as (base_url, http):
        hubspot = client_for(base_url, http)
        simulator.calls.reset()

        found = hubspot.companies.search(
            [FilterGroup.of(Filter.of("city", "EQ", "Sydney"))], properties=["name", "hs_lastmodifieddate"]
        )
        ids = [record.id for record in found]

    assert len(ids) == len(set(ids)) == 10_220  # every one, none twice
    assert set(ids) == set(sydney)
    assert not set(ids) & set(perth)
    assert simulator.calls.count(route=SEARCH_ROUTE, status=400) == 0  # never asked for a page past the cap
    assert 52 <= simulator.calls.count(route=SEARCH_ROUTE, status=200) < 60  # 200 a page, in two windows
