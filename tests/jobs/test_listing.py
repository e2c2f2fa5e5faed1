"""What bulk jobs add to the adapters: a whole system, page by page, in reconcile's types; the match keys
``find`` looks records up by; a count for the ETA."""

from __future__ import annotations

from interlink.sync.handler import bulk_gateway_for
from interlink.sync.matching import MatchKey
from interlink.sync.plan import AcceloRecord, HubSpotRecord
from tests.fixtures.world import World
from tests.jobs.support import seed_hubspot


def test_hubspot_lists_every_record_page_by_page_with_their_match_keys(world: World) -> None:
    seeded = seed_hubspot(world.hubspot, companies=3, contacts_per_company=5)
    hubspot = bulk_gateway_for(world.db, world.workspace_id, 0.5).hubspot
    seen: list[HubSpotRecord] = []
    cursor = None
    while True:
        page = hubspot.list_page("contact", ["email", "firstname"], after=cursor, limit=4)
        seen += page.items
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert [record.id for record in seen] == seeded.contacts  # in id order, each once
    assert seen[0].properties["email"] == "person0-0@company0.example"

    keyed = hubspot.match_keys_page("company", after=None, limit=100)
    assert keyed.next_cursor is None
    assert keyed.items[0] == (
        seeded.companies[0],
        [MatchKey("domain", "company0.example"), MatchKey("name", "Company 0")],
    )
    assert hubspot.count("contact") == 15
    assert hubspot.count("company") == 3


def test_accelo_lists_every_record_after_an_id_with_affiliations_and_keys(world: World) -> None:
    world.accelo.generate(companies=4, contacts_per_company=3)
    accelo = bulk_gateway_for(world.db, world.workspace_id, 0.5).accelo
    first = accelo.list_page("contact", [], after=None, limit=5)
    rest = accelo.list_page("contact", [], after=first.next_cursor, limit=100)
    assert first.next_cursor == first.items[-1].id
    assert rest.next_cursor is None
    records: list[AcceloRecord] = first.items + rest.items
    assert len({record.id for record in records}) == 12
    assert all(record.fields["affiliation.email"] and record.company_id for record in records)

    companies = accelo.list_page("company", [], after=None)
    assert [record.fields["name"] for record in companies.items][:2] == ["Company 1", "Company 2"]
    keys = accelo.match_keys_page("company", after=None)
    assert keys.items[0] == ("1", [MatchKey("domain", "company1.example"), MatchKey("name", "Company 1")])
    emails = accelo.match_keys_page("contact", after=None)
    assert len(emails.items) == 12
    assert all(key.kind == "email" for _id, found in emails.items for key in found)
    assert accelo.count("company") == 4
    assert accelo.count("contact") == 12
