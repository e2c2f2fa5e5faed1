"""The admin UI's forms over HTTP, as a browser sends them (each form read from the page, its hidden fields and
defaults kept, the visible ones filled in), against the simulators: the review queue's retry, link by hand and
ignore; connecting HubSpot with a private-app token and Accord with a signing secret; a value map for an
enumeration. What each test checks is what an admin would see next, and what the vendors then hold."""

from __future__ import annotations

import html
import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from interlink.connections.registry import connectors_for
from interlink.connections.repository import ConnectionRepo
from interlink.connectors.accord.signature import signature_headers
from interlink.connectors.hubspot.schemas import PropertyOption, PropertySpec
from interlink.models import Link
from interlink.simulators.accelo.simulator import Fault
from interlink.simulators.hubspot.oauth import DEFAULT_APP_ID, DEFAULT_CLIENT_SECRET, DEFAULT_PRIVATE_APP_TOKEN
from tests.admin.support import create_admin, sign_in, submit
from tests.fixtures.world import HUBSPOT_URL, World


@pytest.fixture
def admin_ui(world: World) -> Iterator[TestClient]:
    """A browser signed in to the world's workspace (it keeps cookies; redirects are followed by hand)."""
    admin = create_admin(world.db, world.tenant.workspace, "ada@acme.example")
    with TestClient(world.app, follow_redirects=False) as client:
        assert sign_in(client, admin).status_code == 303  # type: ignore[attr-defined]
        yield client


def page(client: TestClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.text[:500]
    return response.text


def flashed(client: TestClient, response: Any) -> str:
    """Follow a form's redirect and return the message the next page shows."""
    assert response.status_code == 303, response.text[:500]
    shown = re.search(r'<div class="flash (\w+)"[^>]*>(.*?)</div>', page(client, response.headers["location"]), re.S)
    assert shown, "the page after the form shows no message"
    return f"{shown.group(1)}: {' '.join(html.unescape(shown.group(2)).split())}"


def sync_everyone(world: World) -> None:
    for object_type, field in (("company", "name"), ("contact", "email")):
        rule = {"object_type": object_type, "direction": "pull", "condition": {"field": field, "op": "is_set"}}
        assert world.api.post("/api/v1/sync-rules", json=rule, headers=world.tenant.headers).status_code == 201


def hubspot_contact(world: World, email: str, **properties: str) -> str:
    """A HubSpot contact (with its company) created as a user would, webhooks delivered and processed."""
    (company,) = world.hubspot.seed("companies", [{"name": f"Company of {email}"}])
    contact = str(world.hubspot.create_as_user("contacts", {"email": email, "firstname": "Ada", **properties})["id"])
    world.hubspot.associate_as_user("contacts", contact, "companies", company)
    world.settle()
    return contact


def status_line(connections: str, system: str) -> str:
    """The line under a system's heading on the connections page, as text."""
    found = re.search(rf'id="{system}".*?<p class="status-line">(.*?)</p>', connections, re.S)
    assert found, f"no status line for {system}"
    return " ".join(html.unescape(re.sub("<[^>]+>", "", found.group(1))).split())


def link_of(world: World, hubspot_id: str) -> Link:
    with world.db.transaction() as session:
        return session.scalars(select(Link).where(Link.hubspot_id == hubspot_id, Link.object_type == "contact")).one()


# -- the review queue --------------------------------------------------------------------------------------------


def test_link_by_hand_and_ignore_from_the_review_queue(world: World, admin_ui: TestClient) -> None:
    sync_everyone(world)
    company = world.accelo.user_create_company("Analytical Engines")
    twins = [world.accelo.user_create_contact(company, "Ada", surname, email="ada@engines.example") for surname in "AB"]
    others = [
        world.accelo.user_create_contact(company, "Bea", surname, email="bea@engines.example") for surname in "AB"
    ]
    ada = hubspot_contact(world, "ada@engines.example", lastname="Lovelace")
    bea = hubspot_contact(world, "bea@engines.example", lastname="Babbage")
    assert (link_of(world, ada).state, link_of(world, bea).state) == ("needs_review", "needs_review")

    queue = page(admin_ui, "/admin/review")
    ada_item = f'id="link-{link_of(world, ada).id}"'
    assert "No twin chosen" in queue
    assert f"Possible twins found by matching: {twins[0]}, {twins[1]}." in queue
    linked = submit(admin_ui, queue, "Link", near=ada_item, fill={"other_id": str(twins[1])})
    assert linked.headers["location"] == "/admin/review"  # back to the queue
    assert flashed(admin_ui, linked) == "success: Linked. The two records are being synced now."
    world.settle()
    assert (link_of(world, ada).state, link_of(world, ada).accelo_id) == ("in_sync", str(twins[1]))
    assert world.accelo.record("contact", twins[1])["surname"] == "Lovelace"  # HubSpot's values reached the twin

    queue = page(admin_ui, "/admin/review")
    assert ada_item not in queue
    ignored = submit(admin_ui, queue, "Ignore", near=f'id="link-{link_of(world, bea).id}"')
    assert flashed(admin_ui, ignored).startswith("success: Taken out of the review queue")
    assert "Nothing to review" in page(admin_ui, "/admin/review")
    assert (link_of(world, bea).state, link_of(world, bea).flagged) == ("needs_review", False)
    assert [world.accelo.record("contact", other)["surname"] for other in others] == ["A", "B"]  # neither touched


def test_retry_a_record_that_kept_failing_from_the_review_queue(world: World, admin_ui: TestClient) -> None:
    sync_everyone(world)
    ada = hubspot_contact(world, "ada@engines.example", lastname="Lovelace")
    accelo_id = int(link_of(world, ada).accelo_id or 0)
    rejecting = Fault(
        path_pattern=r"/contacts/\d+$",
        method="PUT",
        status=400,
        body='{"meta": {"status": "error", "message": "the contact is locked for editing"}}',
        content_type="application/json",
        times=1000,
    )
    world.accelo.add_fault(rejecting)
    world.hubspot.update_as_user("contacts", ada, {"firstname": "Augusta"})
    world.settle()
    assert link_of(world, ada).state == "failed"

    queue = page(admin_ui, "/admin/review")
    assert "Failed" in queue
    assert "the contact is locked for editing" in queue
    world.accelo.faults.remove(rejecting)  # someone unlocked it in Accelo
    retried = submit(admin_ui, queue, "Retry now", near=f'id="link-{link_of(world, ada).id}"')
    assert flashed(admin_ui, retried) == (
        "success: Retrying Ada Lovelace <ada@engines.example> now: both systems are read again."
    )
    world.settle()
    assert world.accelo.record("contact", accelo_id)["firstname"] == "Augusta"
    assert (link_of(world, ada).state, link_of(world, ada).flagged) == ("in_sync", False)
    assert "Nothing to review" in page(admin_ui, "/admin/review")


# -- connections ---------------------------------------------------------------------------------------------------


def test_connect_hubspot_with_a_private_app_token(world: World, admin_ui: TestClient) -> None:
    connections = page(admin_ui, "/admin/connections")
    disconnected = submit(admin_ui, connections, "Disconnect", near='id="hubspot"')
    assert flashed(admin_ui, disconnected) == "success: HubSpot disconnected. Its stored credentials are deleted."
    connections = page(admin_ui, "/admin/connections")
    assert "Connect HubSpot" in connections

    form = {"portal_id": str(world.hubspot.portal_id), "client_secret": DEFAULT_CLIENT_SECRET, "base_url": HUBSPOT_URL}
    form["app_id"] = str(DEFAULT_APP_ID)
    wrong = submit(admin_ui, connections, "Save and test", near="pat-title", fill={**form, "access_token": "pat-x"})
    refused = flashed(admin_ui, wrong)
    assert refused.startswith("error: HubSpot saved. HubSpot did not accept the credentials")
    assert refused.endswith("Paste a new token, or connect again.")
    assert status_line(page(admin_ui, "/admin/connections"), "hubspot").startswith("Problem")

    connections = page(admin_ui, "/admin/connections")
    right = submit(
        admin_ui,
        connections,
        "Save and test",
        near="pat-title",
        fill={**form, "access_token": DEFAULT_PRIVATE_APP_TOKEN},
    )
    assert flashed(admin_ui, right).startswith(
        f"success: HubSpot saved. Connected to HubSpot account {form['portal_id']}"
    )
    assert status_line(page(admin_ui, "/admin/connections"), "hubspot").startswith(
        f"Connected account {form['portal_id']} · private-app token"
    )
    assert DEFAULT_PRIVATE_APP_TOKEN not in page(admin_ui, "/admin/connections")  # never shown again
    # And it is used: a contact created in HubSpot now reaches Accelo.
    sync_everyone(world)
    contact = hubspot_contact(world, "grace@navy.example", lastname="Hopper")
    assert world.accelo.record("contact", int(link_of(world, contact).accelo_id or 0))["surname"] == "Hopper"


def accord_event() -> bytes:
    event = {
        "event_id": f"evt_{uuid.uuid4().hex}",
        "trigger": "accord.viewed",
        "occurred_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "accord": {
            "id": "acc-1",
            "url": "https://app.inaccord.com/accords/acc-1",
            "status": "On Track",
            "current_stage": "Technical validation",
            "customers_invited": 2,
            "customers_accepted": 1,
            "progress": 40,
            "execution_score": 80.0,
            "hubspot_deal_id": "9001",
        },
    }
    return json.dumps(event).encode()


def test_connect_accord_with_a_signing_secret(world: World, admin_ui: TestClient) -> None:
    secret = "accord-signing-secret-from-their-settings"
    connections = page(admin_ui, "/admin/connections")
    webhook_url = re.search(r'id="webhook-accord" readonly value="([^"]+)"', connections)
    assert webhook_url
    assert webhook_url.group(1) == f"{world.settings.public_base_url}/webhooks/accord/{world.tenant.workspace.slug}"
    saved = submit(admin_ui, connections, "Save and test", near='id="accord"', fill={"signing_secret": secret})
    assert flashed(admin_ui, saved).startswith("success: Accord saved.")
    connections = page(admin_ui, "/admin/connections")
    assert "Change the Accord connection" in connections
    assert secret not in connections

    # Accord's events signed with that secret are accepted at the URL shown; others are refused.
    path = webhook_url.group(1).removeprefix(world.settings.public_base_url)
    body = accord_event()
    accepted = world.api.post(path, content=body, headers=signature_headers(secret, body))
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted"
    forged = world.api.post(path, content=body, headers=signature_headers("some other secret", body))
    assert forged.status_code == 401


# -- a value map for an enumeration ----------------------------------------------------------------------------


def test_map_an_enumeration_with_a_value_map(world: World, admin_ui: TestClient) -> None:
    with world.db.transaction() as session:
        connection = ConnectionRepo(session, world.workspace_id).get_by_system("hubspot")
        assert connection is not None
        hubspot = connectors_for(world.db).hubspot(connection)
    options = [
        PropertyOption(label=value.title(), value=value, display_order=n) for n, value in enumerate(["gold", "silver"])
    ]
    spec = PropertySpec(
        name="tier",
        label="Tier",
        type="enumeration",
        field_type="select",
        group_name="contactinformation",
        options=options,
    )
    hubspot.properties.create("contacts", spec)  # as an admin would add the property in HubSpot
    tier = world.accelo.add_profile_field("contact", "Tier", "select", options=["Gold", "Silver", "Bronze"])

    mappings = page(admin_ui, "/admin/mappings/contact")
    new = {"hubspot_property": "tier", "accelo_field": f"profile:{tier}", "direction": "to_accelo"}
    refused = submit(admin_ui, mappings, "Add mapping", fill=new)
    assert refused.status_code == 422
    assert "HubSpot options with no Accelo option to go to: gold, silver" in refused.text
    assert "Value map (2 HubSpot options)" in refused.text  # the editor for the draft, one row per HubSpot option
    added = submit(admin_ui, refused.text, "Add mapping", choose={"row-new-vm-1": "Gold", "row-new-vm-2": "Silver"})
    assert flashed(admin_ui, added) == f"success: Mapped HubSpot tier to Accelo profile:{tier} (HubSpot → Accelo only)."
    saved = [
        m for m in world.api.get("/api/v1/field-mappings?object_type=contact", headers=world.tenant.headers).json()
    ]
    (row,) = [m for m in saved if m["hubspot_property"] == "tier"]
    assert row["value_map"] == {"gold": "Gold", "silver": "Silver"}
    shown = page(admin_ui, "/admin/mappings/contact")
    (tier_row,) = re.findall(rf'<tr id="mapping-{row["id"]}".*?(?=<tr id="mapping-|</tbody>)', shown, re.S)
    chosen = re.findall(r'name="vm_to"[^>]*>.*?<option value="(\w+)" selected>', tier_row, re.S)
    assert chosen == ["Gold", "Silver"]  # the saved map, shown in the row's editor

    # A HubSpot contact's option arrives in Accelo as the option it is mapped to.
    sync_everyone(world)
    contact = hubspot_contact(world, "ada@engines.example", lastname="Lovelace", tier="silver")
    accelo_id = int(link_of(world, contact).accelo_id or 0)
    assert world.accelo.profile_values_of("contact", accelo_id).get(tier) == "Silver"
