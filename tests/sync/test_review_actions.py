"""The review queue's actions through the REST API (the admin UI calls the same service functions): keep one
side's value of a held field, link a record to its twin by hand, ignore; and the summaries the dashboard reads."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from interlink.models import LedgerEntry, Link
from tests.fixtures.world import World
from tests.sync.test_end_to_end import ADA, hubspot_value, linked_contact


def _api(world: World, method: str, path: str, **kwargs: Any) -> Any:
    response = world.api.request(method, path, headers=world.tenant.headers, **kwargs)
    return response


def _hold_firstname(world: World) -> tuple[str, int, Link]:
    contact, accelo_id, link = linked_contact(world)
    mapping = next(
        m
        for m in _api(world, "GET", "/api/v1/field-mappings?object_type=contact").json()
        if m["hubspot_property"] == "firstname"
    )
    _api(world, "PATCH", f"/api/v1/field-mappings/{mapping['id']}", json={"conflict_policy": "review"})
    world.hubspot.update_as_user("contacts", contact, {"firstname": "One"})
    world.accelo.user_update_contact(accelo_id, firstname="Two")
    world.settle()
    return contact, accelo_id, link


def test_keeping_accelos_value_writes_it_to_hubspot_and_ends_the_hold(world: World) -> None:
    contact, accelo_id, link = _hold_firstname(world)
    assert _api(world, "GET", "/api/v1/links/summary").json()["flagged"] == 1
    response = _api(
        world, "POST", f"/api/v1/links/{link.id}/resolve", json={"field": "firstname|firstname", "keep": "accelo"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["queued_events"] == 1
    world.settle()
    assert hubspot_value(world, contact, "firstname") == "Two"
    assert world.accelo.record("contact", accelo_id)["firstname"] == "Two"
    detail = _api(world, "GET", f"/api/v1/links/{link.id}").json()
    assert (detail["state"], detail["flagged"]) == ("in_sync", False)
    with world.db.transaction() as session:
        settled = session.scalars(select(LedgerEntry).where(LedgerEntry.action == "conflict_resolved")).one()
    assert (settled.old_value, settled.new_value, settled.direction) == ("One", "Two", "to_hubspot")
    assert settled.details["by"] == "the API"
    assert _api(world, "GET", "/api/v1/links/summary").json() == {"counts": {"in_sync": 2}, "flagged": 0}


def test_only_a_held_field_can_be_resolved_and_only_in_a_direction_the_mapping_writes(world: World) -> None:
    _contact, _accelo_id, link = _hold_firstname(world)
    not_held = _api(
        world, "POST", f"/api/v1/links/{link.id}/resolve", json={"field": "lastname|surname", "keep": "hubspot"}
    )
    assert not_held.status_code == 409
    mapping = next(
        m
        for m in _api(world, "GET", "/api/v1/field-mappings?object_type=contact").json()
        if m["hubspot_property"] == "firstname"
    )
    _api(world, "PATCH", f"/api/v1/field-mappings/{mapping['id']}", json={"direction": "to_hubspot"})
    one_way = _api(
        world, "POST", f"/api/v1/links/{link.id}/resolve", json={"field": "firstname|firstname", "keep": "hubspot"}
    )
    assert one_way.status_code == 409
    assert "never writes to Accelo" in one_way.json()["error"]["message"]


def _waiting_hubspot_contact(world: World, email: str = "ada@engines.example") -> tuple[str, Link]:
    contact = world.hubspot.create_as_user("contacts", {**ADA, "email": email})["id"]
    with world.db.transaction() as session:
        link = Link(
            workspace_id=world.workspace_id,
            object_type="contact",
            hubspot_id=str(contact),
            state="needs_review",
            state_reason="2 Accelo contacts match by email: 1, 2; link one by hand",
            flagged=True,
            snapshot={},
            field_states={},
        )
        session.add(link)
    return str(contact), link


def test_linking_by_hand_pairs_the_records_and_syncs_them(world: World) -> None:
    company = world.accelo.user_create_company("Analytical Engines Ltd")
    twin = world.accelo.user_create_contact(company, "A.", "Lovelace")
    world.settle()  # Accelo's own webhooks about the new contact (no push rule: nothing is created)
    contact, link = _waiting_hubspot_contact(world)
    response = _api(world, "POST", f"/api/v1/links/{link.id}/link", json={"accelo_id": str(twin)})
    assert response.status_code == 200, response.text
    assert response.json()["link"]["matched_by"] == "manual"
    world.settle()
    detail = _api(world, "GET", f"/api/v1/links/{link.id}").json()
    assert (detail["state"], detail["accelo_id"], detail["flagged"]) == ("in_sync", str(twin), False)
    assert world.accelo.record("contact", twin)["firstname"] == "Ada"  # the waiting HubSpot record's values win
    history = _api(world, "GET", f"/api/v1/links/{link.id}/history").json()["items"]
    assert "linked_by_hand" in [entry["action"] for entry in history]


def test_a_record_already_linked_cannot_be_linked_again_by_hand(world: World) -> None:
    _contact, accelo_id, _link = linked_contact(world)
    _other, waiting = _waiting_hubspot_contact(world, "augusta@engines.example")
    response = _api(world, "POST", f"/api/v1/links/{waiting.id}/link", json={"accelo_id": str(accelo_id)})
    assert response.status_code == 409
    assert "already linked" in response.json()["error"]["message"]
    bad = _api(world, "POST", f"/api/v1/links/{waiting.id}/link", json={"hubspot_id": "12"})
    assert bad.status_code == 422  # the HubSpot side is set; an Accelo id is needed


def test_ignoring_takes_a_record_out_of_the_queue_and_says_so_in_the_ledger(world: World) -> None:
    _contact, link = _waiting_hubspot_contact(world)
    response = _api(world, "POST", f"/api/v1/links/{link.id}/ignore")
    assert response.status_code == 200
    assert (response.json()["flagged"], response.json()["state"]) == (False, "needs_review")
    assert _api(world, "GET", "/api/v1/links?flagged=true").json()["items"] == []
    latest = _api(world, "GET", "/api/v1/ledger?limit=1").json()["items"][0]
    assert latest["action"] == "ignored"


def test_links_can_be_found_by_a_synced_value(world: World) -> None:
    _contact, _accelo_id, link = linked_contact(world)
    found = _api(world, "GET", "/api/v1/links?q=LOVELACE").json()["items"]
    assert [item["id"] for item in found] == [str(link.id)]
    assert _api(world, "GET", "/api/v1/links?q=100%25").json()["items"] == []  # % is literal


def test_activity_usage_and_connection_tests_for_the_dashboard(world: World) -> None:
    linked_contact(world)
    activity = _api(world, "GET", "/api/v1/events/activity").json()
    assert len(activity["minutes"]) == 60
    received = _api(world, "GET", "/api/v1/events?limit=500").json()["items"]
    assert received
    assert sum(minute["received"] for minute in activity["minutes"]) == len(received)
    assert activity["pending"] == 0
    assert any(minute["longest_wait_seconds"] is not None for minute in activity["minutes"])
    usage = _api(world, "GET", "/api/v1/connections/usage").json()
    assert {item["system"] for item in usage} == {"hubspot", "accelo"}
    assert all(0 <= item["used"] <= item["limit"] for item in usage)
    checked = _api(world, "POST", "/api/v1/connections/hubspot/test").json()
    assert checked["ok"] is True
    assert "Connected to HubSpot account" in checked["message"]
    accelo = _api(world, "POST", "/api/v1/connections/accelo/test").json()
    assert accelo["ok"] is True, accelo
    missing = _api(world, "POST", "/api/v1/connections/accord/test")
    assert missing.status_code == 404
