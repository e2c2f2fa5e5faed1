"""The whole loop over the simulators: a change in one system arrives in the other, with every decision on
the ledger, no duplicates, no loops."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from interlink.models import LedgerEntry, Link
from tests.fixtures.world import World


def set_rule(world: World, object_type: str, direction: str, condition: dict[str, Any]) -> None:
    response = world.api.post(
        "/api/v1/sync-rules",
        json={"object_type": object_type, "direction": direction, "condition": condition},
        headers=world.tenant.headers,
    )
    assert response.status_code == 201, response.text


def links(world: World, object_type: str) -> list[Link]:
    with world.db.transaction() as session:
        return list(session.scalars(select(Link).where(Link.object_type == object_type, Link.state != "closed")))


def ledger(world: World) -> list[LedgerEntry]:
    with world.db.transaction() as session:
        return list(session.scalars(select(LedgerEntry).order_by(LedgerEntry.id)))


def accelo_contacts(world: World) -> list[dict[str, Any]]:
    state = world.accelo.state
    return [dict(row) for row in state.contacts.rows.values()]


def test_a_hubspot_contact_that_matches_the_pull_rule_is_created_in_accelo_with_its_company(world: World) -> None:
    set_rule(world, "company", "pull", {"field": "name", "op": "is_set"})
    set_rule(world, "contact", "pull", {"field": "lifecyclestage", "op": "eq", "value": "customer"})
    (company,) = world.hubspot.seed("companies", [{"name": "Analytical Engines Ltd", "domain": "engines.example"}])
    contact = world.hubspot.create_as_user(
        "contacts",
        {"email": "ada@engines.example", "firstname": "Ada", "lastname": "Lovelace", "lifecyclestage": "customer"},
    )["id"]
    world.hubspot.associate_as_user("contacts", contact, "companies", company)
    world.settle()

    (contact_link,) = links(world, "contact")
    (company_link,) = links(world, "company")
    assert contact_link.state == "in_sync", contact_link.state_reason
    assert contact_link.hubspot_id == str(contact)
    created = world.accelo.record("contact", int(contact_link.accelo_id or 0))
    assert created is not None
    assert (created["firstname"], created["surname"]) == ("Ada", "Lovelace")
    assert company_link.hubspot_id == str(company)
    assert world.accelo.record("company", int(company_link.accelo_id or 0))["name"] == "Analytical Engines Ltd"
    actions = [entry.action for entry in ledger(world)]
    assert actions.count("created") == 2
