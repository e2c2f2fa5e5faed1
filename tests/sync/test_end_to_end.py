"""The whole loop over the simulators: a change in one system arrives in the other, with every decision on
the ledger, no duplicates, no loops."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from interlink.models import LedgerEntry, Link
from interlink.simulators.accelo.simulator import Fault as AcceloFault
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


# -- helpers for linked pairs ------------------------------------------------------------------------------

ADA = {"email": "ada@engines.example", "firstname": "Ada", "lastname": "Lovelace", "lifecyclestage": "customer"}


def sync_everyone(world: World) -> None:
    set_rule(world, "company", "pull", {"field": "name", "op": "is_set"})
    set_rule(world, "contact", "pull", {"field": "email", "op": "is_set"})


def linked_contact(world: World, **properties: str) -> tuple[str, int, Link]:
    """A HubSpot contact (with a company) synced to Accelo; returns (hubspot id, accelo id, link)."""
    sync_everyone(world) if not world.api.get("/api/v1/sync-rules", headers=world.tenant.headers).json()[2][
        "rule"
    ] else None
    (company,) = world.hubspot.seed("companies", [{"name": f"Company of {properties.get('email', 'ada')}"}])
    contact = world.hubspot.create_as_user("contacts", {**ADA, **properties})["id"]
    world.hubspot.associate_as_user("contacts", contact, "companies", company)
    world.settle()
    (link,) = [link for link in links(world, "contact") if link.hubspot_id == str(contact)]
    assert link.state == "in_sync", link.state_reason
    return str(contact), int(link.accelo_id or 0), link


def refuse_accelo_writes(world: World, accelo_id: int) -> None:
    """Accelo refuses every update of this contact (a 400, as for a value it will not take)."""
    refusal = json.dumps({"meta": {"status": "invalid_request", "message": "firstname is not acceptable"}})
    world.accelo.add_fault(
        AcceloFault(
            path_pattern=rf"/contacts/{accelo_id}$",
            method="PUT",
            status=400,
            body=refusal,
            content_type="application/json",
            times=1000,
        )
    )


def writes(world: World) -> tuple[int, int]:
    """(HubSpot writes, Accelo writes) so far, from the simulators' own call logs."""
    hubspot = sum(
        world.hubspot.calls.count(route=route)
        for route in (
            "/crm/v3/objects/{object_type}",
            "/crm/v3/objects/{object_type}/batch/create",
            "/crm/v3/objects/{object_type}/batch/update",
        )
    ) + world.hubspot.calls.count(method="PATCH")
    accelo = (
        world.accelo.calls.count(method="PUT")
        + world.accelo.calls.count(method="POST")
        - world.accelo.calls.count(route="/oauth2/v0/token")
    )
    return hubspot, accelo


def hubspot_value(world: World, contact: str, name: str) -> str | None:
    return world.hubspot.record("contacts", contact)["properties"].get(name)


def affiliation_of(world: World, accelo_id: int) -> dict[str, Any]:
    contact = world.accelo.record("contact", accelo_id)
    assert contact is not None
    return dict(world.accelo.state.affiliations.rows[int(contact["default_affiliation"])])


# -- rules gate creation only -------------------------------------------------------------------------------


def test_a_contact_the_rule_rejects_is_skipped_with_the_reason_and_created_once_it_matches(world: World) -> None:
    set_rule(world, "company", "pull", {"field": "name", "op": "is_set"})
    set_rule(world, "contact", "pull", {"field": "lifecyclestage", "op": "eq", "value": "customer"})
    (company,) = world.hubspot.seed("companies", [{"name": "Difference Engines"}])
    contact = world.hubspot.create_as_user("contacts", {**ADA, "lifecyclestage": "lead"})["id"]
    world.hubspot.associate_as_user("contacts", contact, "companies", company)
    world.settle()
    assert links(world, "contact") == []
    skipped = [e for e in ledger(world) if e.action == "skipped_by_rule"]
    assert skipped
    assert "lifecyclestage eq 'customer'" in (skipped[-1].reason or "")
    assert skipped[-1].details["failing_leaf"]["field"] == "lifecyclestage"

    world.hubspot.update_as_user("contacts", contact, {"lifecyclestage": "customer"})
    world.settle()
    (link,) = links(world, "contact")
    assert link.state == "in_sync"


def test_once_linked_updates_flow_both_ways_whatever_the_rules_say(world: World) -> None:
    contact, accelo_id, _ = linked_contact(world)
    for rule in world.api.get("/api/v1/sync-rules", headers=world.tenant.headers).json():
        if rule["rule"]:
            world.api.delete(f"/api/v1/sync-rules/{rule['rule']['id']}", headers=world.tenant.headers)
    world.hubspot.update_as_user("contacts", contact, {"firstname": "Augusta Ada"})
    world.settle()
    assert world.accelo.record("contact", accelo_id)["firstname"] == "Augusta Ada"
    world.accelo.user_update_contact(accelo_id, surname="King")
    world.settle()
    assert hubspot_value(world, contact, "lastname") == "King"


# -- statuses, echoes, duplicates ---------------------------------------------------------------------------


def test_evangelist_stays_evangelist_after_unrelated_accelo_edits(world: World) -> None:
    contact, accelo_id, _ = linked_contact(world)  # customer <-> Active
    world.hubspot.update_as_user("contacts", contact, {"lifecyclestage": "evangelist"})
    world.settle()
    assert world.accelo.status_of("contact", accelo_id) == world.accelo.status_id("contact", "Active")
    world.accelo.user_update_contact(accelo_id, title="Countess")
    world.settle()
    assert hubspot_value(world, contact, "lifecyclestage") == "evangelist"


def test_our_own_write_echoing_back_causes_no_further_writes(world: World) -> None:
    contact, accelo_id, _ = linked_contact(world)
    before_hubspot, before_accelo = writes(world)
    world.hubspot.update_as_user("contacts", contact, {"firstname": "Augusta"})
    world.settle()
    after_hubspot, after_accelo = writes(world)
    assert world.accelo.record("contact", accelo_id)["firstname"] == "Augusta"
    assert after_accelo - before_accelo == 1  # the one PUT of the contact
    assert after_hubspot - before_hubspot == 0  # Accelo's webhook for our write changed nothing back
    assert any(e.action == "echo_ignored" for e in ledger(world))


def test_duplicated_and_reordered_webhooks_give_one_correct_result(world: World) -> None:
    contact, accelo_id, _ = linked_contact(world)
    world.hubspot.configure_webhooks(duplicate=True, out_of_order=True)
    for name in ("First", "Second", "Third"):
        world.hubspot.update_as_user("contacts", contact, {"firstname": name})
    world.settle()
    assert world.accelo.record("contact", accelo_id)["firstname"] == "Third"
    assert len(links(world, "contact")) == 1
    assert len(world.accelo.state.contacts.rows) == 1


def test_the_same_delivery_three_times_is_stored_once(world: World) -> None:
    from interlink.connectors.hubspot.webhooks import signature_v3

    body = (
        b'[{"eventId": 77, "subscriptionId": 1, "portalId": %d, "appId": 424242, "occurredAt": 1790000000000,'
        b' "subscriptionType": "contact.propertyChange", "attemptNumber": 0, "objectId": 5,'
        b' "propertyName": "firstname", "propertyValue": "X", "changeSource": "CRM_UI"}]' % world.hubspot.portal_id
    )
    results = []
    for _ in range(3):
        import time as _time

        stamp = str(int(_time.time() * 1000))
        signature = signature_v3(
            "sandbox-client-secret", "POST", f"{world.settings.public_base_url}/webhooks/hubspot", body, stamp
        )
        response = world.api.post(
            "/webhooks/hubspot",
            content=body,
            headers={"X-HubSpot-Signature-v3": signature, "X-HubSpot-Request-Timestamp": stamp},
        )
        assert response.status_code == 200, response.text
        results.append(response.json())
    assert [r["accepted"] for r in results] == [1, 0, 0]
    assert [r["duplicates"] for r in results] == [0, 1, 1]


# -- concurrent edits -----------------------------------------------------------------------------------------


def test_edits_to_different_fields_on_both_sides_both_survive(world: World) -> None:
    contact, accelo_id, _ = linked_contact(world)
    world.hubspot.update_as_user("contacts", contact, {"firstname": "Augusta"})
    world.accelo.user_update_contact(accelo_id, surname="King")
    world.settle()
    assert world.accelo.record("contact", accelo_id)["firstname"] == "Augusta"
    assert world.accelo.record("contact", accelo_id)["surname"] == "King"
    assert hubspot_value(world, contact, "firstname") == "Augusta"
    assert hubspot_value(world, contact, "lastname") == "King"


def test_the_same_field_changed_on_both_sides_is_decided_by_policy_and_the_loser_is_recorded(world: World) -> None:
    contact, accelo_id, _ = linked_contact(world)
    world.hubspot.update_as_user("contacts", contact, {"firstname": "FromHubSpot"})
    world.accelo.clock.advance(5)  # Accelo's edit happens later ("latest" wins)
    world.accelo.user_update_contact(accelo_id, firstname="FromAccelo")
    world.settle()
    assert hubspot_value(world, contact, "firstname") == "FromAccelo"
    assert world.accelo.record("contact", accelo_id)["firstname"] == "FromAccelo"
    (conflict,) = [e for e in ledger(world) if e.action == "conflict_resolved"]
    assert conflict.details["winner"] == "accelo"
    assert conflict.details["losing_value"] == "FromHubSpot"


def test_review_policy_holds_the_field_for_a_person(world: World) -> None:
    contact, accelo_id, link = linked_contact(world)
    mapping = next(
        m
        for m in world.api.get("/api/v1/field-mappings?object_type=contact", headers=world.tenant.headers).json()
        if m["hubspot_property"] == "firstname"
    )
    world.api.patch(
        f"/api/v1/field-mappings/{mapping['id']}", json={"conflict_policy": "review"}, headers=world.tenant.headers
    )
    world.hubspot.update_as_user("contacts", contact, {"firstname": "One"})
    world.accelo.user_update_contact(accelo_id, firstname="Two")
    world.settle()
    assert hubspot_value(world, contact, "firstname") == "One"
    assert world.accelo.record("contact", accelo_id)["firstname"] == "Two"
    detail = world.api.get(f"/api/v1/links/{link.id}", headers=world.tenant.headers).json()
    assert detail["state"] == "needs_review"
    held = next(f for f in detail["fields"] if f["hubspot_property"] == "firstname")
    assert (held["state"], held["hubspot_value"], held["accelo_value"]) == ("review", "One", "Two")


# -- identity -------------------------------------------------------------------------------------------------


def test_a_hubspot_merge_repoints_the_link_and_flags_the_duplicate(world: World) -> None:
    first, first_accelo, _ = linked_contact(world)
    second, second_accelo, _ = linked_contact(world, email="augusta@engines.example", firstname="Augusta")
    merged = world.hubspot.merge_as_user("contacts", first, second)
    world.settle()
    open_links = links(world, "contact")
    assert [link.hubspot_id for link in open_links] == [merged["id"]]
    assert open_links[0].accelo_id == str(first_accelo)
    with world.db.transaction() as session:
        closed = session.scalars(
            select(Link).where(Link.object_type == "contact", Link.accelo_id == str(second_accelo))
        ).one()
    assert (closed.state, closed.flagged) == ("closed", True)
    assert "duplicate" in (closed.state_reason or "")


def test_a_deletion_closes_and_flags_the_link(world: World) -> None:
    contact, accelo_id, link = linked_contact(world)
    world.hubspot.archive_as_user("contacts", contact)
    world.settle()
    with world.db.transaction() as session:
        closed = session.get(Link, link.id)
    assert closed is not None
    assert (closed.state, closed.flagged) == ("closed", True)
    assert world.accelo.record("contact", accelo_id) is not None  # the twin is left alone by default


def test_polling_catches_what_accelo_sends_no_webhook_for(world: World) -> None:
    contact, accelo_id, _ = linked_contact(world)
    affiliation = affiliation_of(world, accelo_id)
    world.accelo.user_update_affiliation(int(affiliation["id"]), position="Chief Analyst", phone="+44 20 7946 0000")
    world.settle()
    assert hubspot_value(world, contact, "jobtitle") != "Chief Analyst"  # no webhook: nothing yet
    world.poll()
    assert hubspot_value(world, contact, "jobtitle") == "Chief Analyst"
    assert hubspot_value(world, contact, "phone") == "+44 20 7946 0000"


def test_two_workers_with_events_for_the_same_new_record_create_exactly_one(world: World) -> None:
    import threading

    from interlink.db import Database
    from interlink.inbox.service import NewEvent, accept_events, drain_workspace
    from tests.fixtures.database import make_settings

    sync_everyone(world)
    (company,) = world.hubspot.seed("companies", [{"name": "Analytical Engines Ltd"}])
    world.settle()  # nothing yet: seeding sends no webhooks
    contact = world.hubspot.seed("contacts", [ADA])[0]
    world.hubspot.associate_as_user("contacts", contact, "companies", company)
    world.settle()  # the association event links the company and creates the contact...
    for link in links(world, "contact"):  # ...so start over from "nothing linked"
        world.api.delete(f"/api/v1/links/{link.id}", headers=world.tenant.headers)
    for row in list(world.accelo.state.contacts.rows):
        world.accelo.user_delete_contact(int(row))

    # Two events about the same new contact, each claimed by a different worker at the same moment.
    single = Database(make_settings(world.settings.database_url, world.settings.data_dir, inbox_batch_size=1))
    try:
        with single.transaction() as session:
            accept_events(
                session,
                world.workspace_id,
                "hubspot",
                [NewEvent("contact.creation", f"c{i}", {}, "contact", str(contact)) for i in range(2)],
            )
        from interlink.connections.registry import connectors_for, install

        install(single, connectors_for(world.db))
        start = threading.Barrier(2)

        def worker() -> None:
            start.wait()
            drain_workspace(single, world.workspace_id)

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        single.dispose()
    world.settle()
    assert len(world.accelo.state.contacts.rows) == 1
    assert len(links(world, "contact")) == 1
