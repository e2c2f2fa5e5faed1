"""A create whose answer is lost on the way back (the vendor made the record, then a gateway failed): the
client does not send it again, the record is retried later, and the retry finds the record the first try
made instead of making a second one."""

from __future__ import annotations

from interlink.simulators.accelo.simulator import Fault
from tests.fixtures.world import World
from tests.sync.test_end_to_end import ADA, accelo_contacts, ledger, links, set_rule

GATEWAY_TIMEOUT = "<html><body><h1>504 Gateway Time-out</h1></body></html>"


def hubspot_values(world: World, object_type: str, name: str) -> list[str | None]:
    with world.hubspot.lock:
        ids = list(world.hubspot.crm.live_ids[object_type])
    return [(world.hubspot.record(object_type, record_id) or {})["properties"].get(name) for record_id in ids]


def test_a_contact_created_in_accelo_whose_answer_was_lost_is_found_and_linked_not_created_again(
    world: World,
) -> None:
    set_rule(world, "company", "pull", {"field": "name", "op": "is_set"})
    set_rule(world, "contact", "pull", {"field": "email", "op": "is_set"})
    (company,) = world.hubspot.seed("companies", [{"name": "Analytical Engines Ltd"}])
    world.accelo.add_fault(
        Fault(
            path_pattern=r"^/api/v0/contacts$", method="POST", status=504, body=GATEWAY_TIMEOUT, after_processing=True
        )
    )
    contact = world.hubspot.create_as_user("contacts", ADA)["id"]
    world.hubspot.associate_as_user("contacts", contact, "companies", company)
    world.settle()

    made = [row for row in accelo_contacts(world) if row["firstname"] == "Ada"]
    assert len(made) == 1
    assert world.accelo.calls.count(method="POST", route="/api/v0/contacts") == 1
    (link,) = links(world, "contact")
    assert (link.hubspot_id, link.accelo_id, link.state) == (str(contact), str(made[0]["id"]), "in_sync")
    actions = [entry.action for entry in ledger(world) if entry.object_type == "contact"]
    assert "failed" not in actions[-1:]
    assert "linked_by_match" in actions


def test_a_contact_created_in_hubspot_whose_answer_was_lost_is_found_and_linked_not_created_again(
    world: World,
) -> None:
    set_rule(world, "company", "push", {"field": "name", "op": "is_set"})
    set_rule(world, "contact", "push", {"field": "affiliation.email", "op": "is_set"})
    world.hubspot.inject_fault(
        "/crm/v3/objects/{object_type}/batch/create", status=502, body=GATEWAY_TIMEOUT, after_processing=True
    )
    company = world.accelo.user_create_company("Difference Engines")
    world.accelo.user_create_contact(company, "Charles", "Babbage", email="charles@engines.example")
    world.settle()

    assert world.hubspot.faults.pending() == 0  # the company's create was made, and its answer lost
    assert world.hubspot.calls.count(route="/crm/v3/objects/{object_type}/batch/create") == 2  # one per record
    assert hubspot_values(world, "contacts", "email").count("charles@engines.example") == 1
    assert hubspot_values(world, "companies", "name").count("Difference Engines") == 1
    (link,) = links(world, "contact")
    assert link.state == "in_sync", link.state_reason
    (company_link,) = links(world, "company")
    assert company_link.matched_by == "name"  # found by the retry, not made again
