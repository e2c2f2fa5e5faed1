"""The two webhook endpoints as HubSpot and Accelo call them: verified, stored in the inbox and answered at once
(no vendor call inside the request); a bad signature is a 401 and a malformed body a 400 with the reason, and
neither is stored; redeliveries are acknowledged and dropped."""

from __future__ import annotations

import json
import time
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
from sqlalchemy import select

from interlink.connectors.accelo.webhooks import sign
from interlink.connectors.hubspot.webhooks import signature_v3
from interlink.inbox.repository import InboundEventRepository
from interlink.kit.time import utc_now
from interlink.models import InboundEvent
from interlink.simulators.accelo.simulator import DEFAULT_WEBHOOK_SECRET
from interlink.simulators.hubspot.oauth import DEFAULT_CLIENT_SECRET
from tests.fixtures.factories import create_tenant
from tests.fixtures.world import World
from tests.sync.test_end_to_end import linked_contact

PUBLIC_HUBSPOT_URL = "http://interlink.test/webhooks/hubspot"  # the settings' public_base_url + the path


def stored(world: World) -> list[InboundEvent]:
    with world.db.transaction() as session:
        return list(session.scalars(select(InboundEvent).order_by(InboundEvent.id)))


def vendor_calls(world: World) -> int:
    return world.hubspot.calls.count() + world.accelo.calls.count()


# -- HubSpot ---------------------------------------------------------------------------------------------------


def hubspot_body(world: World, *, event_id: int = 901, object_id: int = 5, **overrides: Any) -> bytes:
    event = {
        "eventId": event_id,
        "subscriptionId": 1,
        "portalId": world.hubspot.portal_id,
        "appId": 424242,
        "occurredAt": int(time.time() * 1000),
        "subscriptionType": "contact.propertyChange",
        "attemptNumber": 0,
        "objectId": object_id,
        "propertyName": "firstname",
        "propertyValue": "Ada",
        "changeSource": "CRM_UI",
        **overrides,
    }
    return json.dumps([event]).encode()


def hubspot_headers(
    body: bytes, *, url: str = PUBLIC_HUBSPOT_URL, secret: str = DEFAULT_CLIENT_SECRET
) -> dict[str, str]:
    stamp = str(int(time.time() * 1000))
    return {
        "Content-Type": "application/json",
        "X-HubSpot-Signature-v3": signature_v3(secret, "POST", url, body, stamp),
        "X-HubSpot-Request-Timestamp": stamp,
    }


def post_hubspot(
    world: World, body: bytes, headers: dict[str, str], *, url: str = "/webhooks/hubspot"
) -> httpx.Response:
    return world.api.post(url, content=body, headers=headers)


def error_message(response: httpx.Response) -> str:
    return str(response.json()["error"]["message"])


def test_a_hubspot_delivery_with_a_bad_signature_is_refused_and_not_stored(world: World) -> None:
    body = hubspot_body(world)
    response = post_hubspot(world, body, hubspot_headers(body, secret="not-the-app-secret"))
    assert response.status_code == 401
    assert "signature" in error_message(response)

    tampered = hubspot_body(world, propertyValue="Mallory")  # signed for another body
    response = post_hubspot(world, tampered, hubspot_headers(body))
    assert response.status_code == 401

    unsigned = post_hubspot(world, body, {"Content-Type": "application/json"})
    assert unsigned.status_code == 401
    assert stored(world) == []


def test_a_malformed_hubspot_body_is_a_400_with_the_reason_and_not_stored(world: World) -> None:
    not_json = b'[{"eventId": 1,'
    response = post_hubspot(world, not_json, hubspot_headers(not_json))
    assert response.status_code == 400
    assert "not JSON" in error_message(response)

    an_object = json.dumps({"eventId": 1}).encode()
    response = post_hubspot(world, an_object, hubspot_headers(an_object))
    assert response.status_code == 400
    assert "not an array" in error_message(response)

    bad_time = hubspot_body(world, occurredAt="yesterday")
    response = post_hubspot(world, bad_time, hubspot_headers(bad_time))
    assert response.status_code == 400
    assert "event 0 (contact.propertyChange) is not valid" in error_message(response)
    assert stored(world) == []


def test_an_empty_hubspot_delivery_is_a_400_not_an_unsigned_200(world: World) -> None:
    response = post_hubspot(world, b"[]", {"content-type": "application/json"})
    assert response.status_code == 400
    assert "holds no events" in error_message(response)
    assert stored(world) == []


def test_a_delivery_for_a_portal_no_workspace_connected_is_refused(world: World) -> None:
    body = hubspot_body(world, portalId=999_000_111)
    response = post_hubspot(world, body, hubspot_headers(body))
    assert response.status_code == 401
    assert "999000111" in error_message(response)
    assert stored(world) == []


def test_a_valid_hubspot_delivery_is_stored_and_answered_without_calling_a_vendor(world: World) -> None:
    contact, accelo_id, _ = linked_contact(world)
    world.hubspot.configure_webhooks(enabled=False)  # this test delivers the webhook itself
    world.hubspot.update_as_user("contacts", contact, {"firstname": "Augusta"})
    body = hubspot_body(world, event_id=4242, object_id=int(contact), propertyValue="Augusta")
    before = vendor_calls(world)
    response = post_hubspot(world, body, hubspot_headers(body))
    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": 1, "duplicates": 0, "ignored": 0}
    assert vendor_calls(world) == before  # answered from the inbox alone
    (event,) = [e for e in stored(world) if e.status == "pending"]
    assert (event.source, event.object_type, event.object_id) == ("hubspot", "contact", contact)
    assert event.payload["propertyValue"] == "Augusta"

    world.settle()  # the worker reads and writes, later
    assert vendor_calls(world) > before
    with world.db.transaction() as session:
        processed = session.get(InboundEvent, event.id)
        assert processed is not None
        assert processed.status == "done"
    assert world.accelo.record("contact", accelo_id)["firstname"] == "Augusta"


def test_a_v3_signature_for_the_public_url_is_accepted_whatever_host_the_request_reached(world: World) -> None:
    # Behind a proxy the request arrives at an internal address; HubSpot signed the public URL it called.
    internal = "http://10.0.0.7:8000/webhooks/hubspot"
    body = hubspot_body(world, event_id=77)
    response = post_hubspot(world, body, hubspot_headers(body), url=internal)
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 1

    # A signature over the internal URL is not HubSpot's: HubSpot never saw that URL.
    other = hubspot_body(world, event_id=78)
    response = post_hubspot(world, other, hubspot_headers(other, url=internal), url=internal)
    assert response.status_code == 401
    assert [e.object_id for e in stored(world)] == ["5"]


def test_the_same_hubspot_delivery_twice_is_acknowledged_and_stored_once(world: World) -> None:
    body = hubspot_body(world, event_id=555)
    first = post_hubspot(world, body, hubspot_headers(body))
    again = post_hubspot(world, body, hubspot_headers(body))
    assert (first.status_code, again.status_code) == (200, 200)
    assert (first.json()["accepted"], again.json()["duplicates"]) == (1, 1)
    assert len(stored(world)) == 1


# -- Accelo ----------------------------------------------------------------------------------------------------


def accelo_delivery(
    record_id: int, *, event: str = "update_contact", secret: str = DEFAULT_WEBHOOK_SECRET, kind: str = "contacts"
) -> tuple[bytes, dict[str, str]]:
    body = urlencode({"id": str(record_id), "resource_url": f"https://sim.api.accelo.com/api/v0/{kind}/{record_id}"})
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Accelo-Event": event,
        "X-Hub-Signature": sign(body.encode(), secret),
    }
    return body.encode(), headers


def post_accelo(world: World, body: bytes, headers: dict[str, str], *, slug: str | None = None) -> httpx.Response:
    return world.api.post(f"/webhooks/accelo/{slug or world.tenant.workspace.slug}", content=body, headers=headers)


def test_an_accelo_delivery_with_a_bad_signature_is_refused_and_not_stored(world: World) -> None:
    body, headers = accelo_delivery(31, secret="not-the-subscription-secret")
    response = post_accelo(world, body, headers)
    assert response.status_code == 401
    assert "signature" in error_message(response)

    body, headers = accelo_delivery(31)
    response = post_accelo(world, body.replace(b"31", b"32"), headers)
    assert response.status_code == 401

    del headers["X-Hub-Signature"]
    response = post_accelo(world, body, headers)
    assert response.status_code == 401
    assert "X-Hub-Signature" in error_message(response)
    assert stored(world) == []


def test_a_malformed_accelo_delivery_is_a_400_with_the_reason_and_not_stored(world: World) -> None:
    body, headers = accelo_delivery(31)
    del headers["X-Accelo-Event"]
    response = post_accelo(world, body, headers)
    assert response.status_code == 400
    assert "X-Accelo-Event" in error_message(response)

    body = urlencode({"id": "abc", "resource_url": "https://sim.api.accelo.com/api/v0/contacts/abc"}).encode()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Accelo-Event": "update_contact",
        "X-Hub-Signature": sign(body, DEFAULT_WEBHOOK_SECRET),
    }
    response = post_accelo(world, body, headers)
    assert response.status_code == 400
    assert "not a record id" in error_message(response)

    body, headers = accelo_delivery(31, kind="companies")  # says contact, names a company
    response = post_accelo(world, body, headers)
    assert response.status_code == 400
    assert "resource_url" in error_message(response)
    assert stored(world) == []


def test_an_accelo_delivery_for_an_unknown_workspace_is_not_found_and_not_stored(world: World) -> None:
    body, headers = accelo_delivery(31)
    response = post_accelo(world, body, headers, slug="no-such-workspace")
    assert response.status_code == 404
    not_connected = create_tenant(world.db, "Not connected")
    response = post_accelo(world, body, headers, slug=not_connected.workspace.slug)
    assert response.status_code == 404
    assert "Accelo connection" in error_message(response)
    assert stored(world) == []


def test_a_valid_accelo_delivery_is_stored_and_answered_without_calling_a_vendor(world: World) -> None:
    body, headers = accelo_delivery(31)
    before = vendor_calls(world)
    response = post_accelo(world, body, headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": 1, "duplicates": 0, "ignored": 0}
    assert vendor_calls(world) == before
    (event,) = stored(world)
    assert (event.status, event.kind, event.object_type, event.object_id) == (
        "pending",
        "update_contact",
        "contact",
        "31",
    )


def test_an_accelo_event_interlink_does_not_sync_is_acknowledged_and_ignored(world: World) -> None:
    body = urlencode({"id": "8", "resource_url": "https://sim.api.accelo.com/api/v0/invoices/8"}).encode()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Accelo-Event": "update_invoice",
        "X-Hub-Signature": sign(body, DEFAULT_WEBHOOK_SECRET),
    }
    response = post_accelo(world, body, headers)
    assert response.status_code == 200
    assert response.json() == {"accepted": 0, "duplicates": 0, "ignored": 1}
    assert stored(world) == []


def test_an_accelo_redelivery_is_dropped_while_the_same_record_waits_and_stored_again_once_it_is_processed(
    world: World,
) -> None:
    _, accelo_id, _ = linked_contact(world)
    body, headers = accelo_delivery(accelo_id)
    results = [post_accelo(world, body, headers).json() for _ in range(3)]
    assert [r["accepted"] for r in results] == [1, 0, 0]
    assert [r["duplicates"] for r in results] == [0, 1, 1]
    created, created_headers = accelo_delivery(accelo_id, event="create_contact")
    assert post_accelo(world, created, created_headers).json()["duplicates"] == 1  # same record, still waiting
    other, other_headers = accelo_delivery(accelo_id + 1000)
    assert post_accelo(world, other, other_headers).json()["accepted"] == 1  # another record
    waiting = [e for e in stored(world) if e.status == "pending" and e.source == "accelo"]
    assert sorted(e.object_id for e in waiting) == sorted([str(accelo_id), str(accelo_id + 1000)])

    world.settle()
    # The first one was processed: the same delivery now may be a new edit, so it is stored again.
    again = post_accelo(world, body, headers)
    assert again.json() == {"accepted": 1, "duplicates": 0, "ignored": 0}


def test_a_hint_about_a_record_whose_event_waits_out_a_back_off_is_stored_and_due_now(world: World) -> None:
    """An event back in the queue after a failed attempt may never have read the change a new hint is about, and
    it is not due for a while: the new hint is its own event, due at once."""
    body, headers = accelo_delivery(41)
    assert post_accelo(world, body, headers).json()["accepted"] == 1
    later = utc_now() + timedelta(minutes=10)
    with world.db.transaction() as session:
        (event,) = session.scalars(select(InboundEvent).where(InboundEvent.object_id == "41")).all()
        event.pending_key = None  # claimed once (a claim clears the key), then put back to wait out its back-off
        event.attempts = 1
        event.next_attempt_at = later

    again = post_accelo(world, body, headers).json()

    assert (again["accepted"], again["duplicates"]) == (1, 0)
    fresh = [e for e in stored(world) if e.object_id == "41" and e.attempts == 0]
    assert len(fresh) == 1
    assert fresh[0].next_attempt_at < later


def test_a_hint_about_a_record_already_waiting_is_dropped_by_the_database_even_when_the_look_up_missed_it(
    world: World,
) -> None:
    """Two deliveries racing: the second one's look-up ran before the first committed, so both reach the insert.
    The pending key's unique index is what drops the second."""
    body, headers = accelo_delivery(31)
    assert post_accelo(world, body, headers).json()["accepted"] == 1
    now = utc_now()
    row = {
        "workspace_id": world.workspace_id,
        "source": "accelo",
        "kind": "update_contact",
        "dedupe_key": f"update_contact:31:{uuid.uuid4().hex}",
        "pending_key": "contact:31",
        "object_type": "contact",
        "object_id": "31",
        "payload": {"id": "31"},
        "occurred_at": None,
        "received_at": now,
        "next_attempt_at": now,
        "status": "pending",
        "attempts": 0,
    }
    with world.db.transaction() as session:
        assert InboundEventRepository(session).insert_new([row]) == []
    assert len(stored(world)) == 1
