"""Webhooks from the simulator: batches, signatures, change sources, retries, duplicates, disorder."""

from __future__ import annotations

import json

import httpx

from interlink.connectors.hubspot.webhooks import (
    DeletionEvent,
    PrivacyDeletionEvent,
    RestoreEvent,
    parse_events,
    verify_signature,
)
from interlink.simulators.hubspot import DEFAULT_CLIENT_SECRET, HubSpotSimulator
from tests.connectors.hubspot.support import WebhookSink

TARGET = "http://interlink.test/webhooks/hubspot"


def flush(simulator: HubSpotSimulator) -> None:
    assert simulator.webhooks.flush(10), "webhook deliveries did not finish"


def test_an_api_write_is_delivered_signed_and_attributed_to_the_app(
    api: httpx.Client, simulator: HubSpotSimulator, sink: WebhookSink
) -> None:
    created = api.post("/crm/v3/objects/contacts", json={"properties": {"email": "w@example.com", "firstname": "W"}})
    flush(simulator)
    assert len(sink.received) == 1
    delivery = sink.received[0]
    assert delivery.url == TARGET
    assert delivery.headers["x-hubspot-signature-version"] == "v1"
    assert delivery.headers["content-type"] == "application/json"
    version = verify_signature(
        client_secret=DEFAULT_CLIENT_SECRET, method="POST", uri=TARGET, body=delivery.body, headers=delivery.headers
    )
    assert version == "v3"
    v1_only = {"X-HubSpot-Signature": delivery.headers["x-hubspot-signature"]}
    assert (
        verify_signature(
            client_secret=DEFAULT_CLIENT_SECRET, method="POST", uri=TARGET, body=delivery.body, headers=v1_only
        )
        == "v1"
    )

    events = parse_events(delivery.body)
    assert [(event.action, getattr(event, "property_name", None)) for event in events] == [
        ("creation", None),
        ("propertyChange", "email"),
        ("propertyChange", "firstname"),
    ]
    assert all(event.object_id == created.json()["id"] for event in events)
    assert all(event.written_by_app(simulator.webhooks.settings.app_id) for event in events)
    assert events[0].change_flag == "NEW"
    assert events[0].portal_id == simulator.portal_id


def test_a_user_edit_fires_webhooks_like_the_ui(simulator: HubSpotSimulator, sink: WebhookSink) -> None:
    record_id = simulator.seed("companies", [{"name": "Acme"}])[0]  # an import: no webhooks by default
    flush(simulator)
    assert sink.received == []
    simulator.update_as_user("companies", record_id, {"name": "Acme Ltd", "city": "Leeds"}, user_id=9002)
    flush(simulator)
    events = parse_events(sink.received[0].body)
    assert {(event.property_name, event.property_value) for event in events} == {
        ("name", "Acme Ltd"),
        ("city", "Leeds"),
    }  # type: ignore[attr-defined]
    assert {(event.change_source, event.source_id) for event in events} == {("CRM_UI", "userId:9002")}
    assert not any(event.written_by_app(simulator.webhooks.settings.app_id) for event in events)


def test_events_come_in_batches_of_at_most_100(
    api: httpx.Client, simulator: HubSpotSimulator, sink: WebhookSink
) -> None:
    inputs = [{"properties": {"email": f"b{n}@example.com", "city": "Ely"}} for n in range(100)]
    assert api.post("/crm/v3/objects/contacts/batch/create", json={"inputs": inputs}).status_code == 201
    flush(simulator)
    sizes = [len(json.loads(item.body)) for item in sink.received]
    assert sum(sizes) == 300
    assert max(sizes) <= 100
    assert len(sizes) == 3


def test_failed_deliveries_are_retried_with_growing_attempt_numbers(
    simulator: HubSpotSimulator, sink: WebhookSink
) -> None:
    sink.answers.extend([500, 404, 503])
    simulator.create_as_user("deals", {"dealname": "Retry me"})
    flush(simulator)
    attempts = [json.loads(item.body)[0]["attemptNumber"] for item in sink.received]
    assert attempts == [0, 1, 2, 3]
    stamps = [item.headers["x-hubspot-request-timestamp"] for item in sink.received]
    assert stamps == sorted(stamps)  # re-signed at each attempt
    for item in sink.received:
        verify_signature(
            client_secret=DEFAULT_CLIENT_SECRET, method="POST", uri=TARGET, body=item.body, headers=item.headers
        )


def test_a_target_that_keeps_failing_gets_ten_retries(simulator: HubSpotSimulator, sink: WebhookSink) -> None:
    sink.answers.extend([500] * 50)
    simulator.create_as_user("deals", {"dealname": "Never delivered"})
    flush(simulator)
    assert len(sink.received) == 11  # the first attempt and ten retries
    assert simulator.webhooks.report()["delivered"] == 0


def test_unreachable_targets_are_retried_too() -> None:
    from tests.connectors.hubspot.support import new_simulator
    from tests.support.servers import free_port

    simulator = new_simulator(
        webhook_urls=[f"http://127.0.0.1:{free_port()}/webhooks/hubspot"], webhook_retry_delays=[0.01] * 2
    )
    try:
        simulator.create_as_user("contacts", {"email": "nowhere@example.com"})
        assert simulator.webhooks.flush(10)
        batch = simulator.webhooks.sent[0]
        assert batch.outcomes == ["no answer"] * 3
        assert not batch.delivered
    finally:
        simulator.close()


def test_duplicate_and_out_of_order_delivery(simulator: HubSpotSimulator, sink: WebhookSink) -> None:
    simulator.configure_webhooks(duplicate=True)
    simulator.create_as_user("contacts", {"email": "twice@example.com"})
    flush(simulator)
    assert len(sink.received) == 2
    assert sink.received[0].body == sink.received[1].body

    sink.received.clear()
    simulator.configure_webhooks(duplicate=False, out_of_order=True)
    simulator.create_as_user("contacts", {"email": "shuffled@example.com", "firstname": "S", "city": "Ely"})
    flush(simulator)
    events = parse_events(sink.received[0].body)
    assert [event.action for event in events][-1] == "creation"  # the creation arrives after its property changes
    assert [event.event_id for event in events] == sorted((event.event_id for event in events), reverse=True)


def test_merges_deletions_restores_and_associations(simulator: HubSpotSimulator, sink: WebhookSink) -> None:
    contacts = simulator.seed("contacts", [{"email": "x@example.com"}, {"email": "y@example.com"}])
    company = simulator.seed("companies", [{"name": "Acme"}])[0]
    merged = simulator.merge_as_user("contacts", contacts[0], contacts[1])
    simulator.associate_as_user("contacts", merged["id"], "companies", company)
    simulator.archive_as_user("companies", company)
    simulator.restore_as_user("companies", company)
    flush(simulator)
    events = [event for item in sink.received for event in parse_events(item.body)]
    by_type = {event.subscription_type: event for event in events}
    merge = by_type["contact.merge"]
    assert merge.new_object_id == merged["id"]
    assert merge.primary_object_id == contacts[0]
    assert merge.merged_object_ids == [contacts[1]]  # type: ignore[attr-defined]
    both_ways = {
        (event.from_object_id, event.to_object_id, event.association_type)
        for event in events
        if event.action == "associationChange"
    }  # type: ignore[attr-defined]
    assert both_ways == {(merged["id"], company, "CONTACT_TO_COMPANY"), (company, merged["id"], "COMPANY_TO_CONTACT")}
    assert by_type["company.deletion"].change_flag == "DELETED"
    assert "company.restore" in by_type


def test_subscriptions_narrow_what_is_sent(simulator: HubSpotSimulator, sink: WebhookSink) -> None:
    simulator.configure_webhooks(subscriptions=["contact.propertyChange"], properties=["lifecyclestage"])
    simulator.create_as_user("contacts", {"email": "quiet@example.com", "lifecyclestage": "lead"})
    flush(simulator)
    events = sink.events()
    assert [(event["subscriptionType"], event["propertyName"]) for event in events] == [
        ("contact.propertyChange", "lifecyclestage")
    ]


def test_deleting_restoring_and_forgetting_a_contact_arrive_as_typed_events(
    api: httpx.Client, simulator: HubSpotSimulator, sink: WebhookSink
) -> None:
    kept, forgotten = simulator.seed("contacts", [{"email": "kept@example.com"}, {"email": "forget@example.com"}])
    simulator.archive_as_user("contacts", kept)
    simulator.restore_as_user("contacts", kept)
    purge = api.post(
        "/crm/v3/objects/contacts/gdpr-delete", json={"objectId": "forget@example.com", "idProperty": "email"}
    )
    assert purge.status_code == 204, purge.text
    flush(simulator)

    events = sorted((event for item in sink.received for event in parse_events(item.body)), key=lambda e: e.event_id)
    about = [(type(event).__name__, event.object_id) for event in events]
    assert about[:2] == [("DeletionEvent", kept), ("RestoreEvent", kept)]
    assert sorted(about[2:]) == [("DeletionEvent", forgotten), ("PrivacyDeletionEvent", forgotten)]
    deleted, restored = events[0], events[1]
    assert isinstance(deleted, DeletionEvent)
    assert deleted.change_flag == "DELETED"
    assert isinstance(restored, RestoreEvent)
    assert all(isinstance(event, DeletionEvent | RestoreEvent | PrivacyDeletionEvent) for event in events)
