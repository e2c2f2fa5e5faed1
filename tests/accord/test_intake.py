"""POST /webhooks/accord/{workspace}: verified, checked, stored, acknowledged; never a HubSpot call inside."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from interlink.db import Database
from interlink.worker.enqueue import RecordingDispatcher
from tests.accord.support import (
    AccordTenant,
    HubSpotSandbox,
    create_accord_tenant,
    drain,
    envelope,
    events_by_status,
    ledger_rows,
    link_of,
    post_event,
    signed,
    stored_events,
)


def test_a_valid_event_is_stored_linked_and_acknowledged_without_calling_hubspot(
    client: TestClient,
    db: Database,
    accord_tenant: AccordTenant,
    hubspot: HubSpotSandbox,
    dispatcher: RecordingDispatcher,
) -> None:
    (deal,) = hubspot.deals(1)
    event = envelope("acc-1", deal, trigger="accord.created", event_id="evt_first")
    response = post_event(client, accord_tenant, event)
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "accepted", "event_id": "evt_first", "accord_id": "acc-1"}
    assert events_by_status(db, accord_tenant) == {"pending": 1}
    assert [job.name for job in dispatcher.take()] == ["inbox.drain"]  # the push happens after commit
    assert hubspot.calls() == 0
    link = link_of(db, accord_tenant, "acc-1")
    assert link is not None
    assert link.deal_id == deal
    assert link.linked_by == "event"
    assert not link.flagged
    (linked,) = ledger_rows(db, accord_tenant, "accord_linked")
    assert (linked.hubspot_id, linked.details["accord_id"], len(linked.event_ids)) == (deal, "acc-1", 1)


def test_a_redelivery_is_acknowledged_and_dropped(
    client: TestClient, db: Database, accord_tenant: AccordTenant, hubspot: HubSpotSandbox
) -> None:
    (deal,) = hubspot.deals(1)
    event = envelope("acc-1", deal, event_id="evt_same")
    assert post_event(client, accord_tenant, event).json()["status"] == "accepted"
    again = post_event(client, accord_tenant, event)
    assert again.status_code == 200
    assert again.json()["status"] == "duplicate"
    assert stored_events(db, accord_tenant) == 1


def test_an_event_for_a_linked_accord_may_leave_the_deal_out(
    client: TestClient, db: Database, accord_tenant: AccordTenant, hubspot: HubSpotSandbox
) -> None:
    (deal,) = hubspot.deals(1)
    assert post_event(client, accord_tenant, envelope("acc-1", deal)).status_code == 200
    assert post_event(client, accord_tenant, envelope("acc-1", None)).status_code == 200
    assert stored_events(db, accord_tenant) == 2


def _assert_nothing_stored_or_pushed(db: Database, tenant: AccordTenant, hubspot: HubSpotSandbox) -> None:
    assert stored_events(db, tenant) == 0
    assert link_of(db, tenant, "acc-1") is None
    drain(db, tenant)
    assert hubspot.calls() == 0


def _error(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = response.json()["error"]
    return body


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"secret": "not-the-workspace-secret"}, "the signature does not match"),
        ({"timestamp": int(time.time()) - 301}, "seconds old; requests are accepted within 5 minutes"),
        ({"timestamp": int(time.time()) + 400}, "seconds in the future"),
        ({"drop": "X-Accord-Signature"}, "the X-Accord-Signature header is missing"),
        ({"drop": "X-Accord-Timestamp"}, "the X-Accord-Timestamp header is missing"),
        ({"tamper": True}, "the signature does not match"),
    ],
)
def test_signature_and_timestamp_problems_are_401_with_the_reason_and_nothing_is_stored(
    client: TestClient,
    db: Database,
    accord_tenant: AccordTenant,
    hubspot: HubSpotSandbox,
    change: dict[str, Any],
    reason: str,
) -> None:
    (deal,) = hubspot.deals(1)
    body = json.dumps(envelope("acc-1", deal)).encode()
    headers = signed(body, change.get("secret", accord_tenant.secret), timestamp=change.get("timestamp"))
    if "drop" in change:
        del headers[change["drop"]]
    if change.get("tamper"):
        body = body.replace(b'"progress": 45', b'"progress": 46')
    response = client.post(f"/webhooks/accord/{accord_tenant.slug}", content=body, headers=headers)
    assert response.status_code == 401, response.text
    assert _error(response)["code"] == "unauthorized"
    assert reason in _error(response)["message"]
    _assert_nothing_stored_or_pushed(db, accord_tenant, hubspot)


def test_a_workspace_without_a_signing_secret_refuses_everything(
    client: TestClient, db: Database, hubspot: HubSpotSandbox
) -> None:
    tenant = create_accord_tenant(db, hubspot)
    with db.transaction() as session:
        from interlink.connections.repository import ConnectionRepo

        connection = ConnectionRepo(session, tenant.workspace_id).get_by_system("accord")
        assert connection is not None
        session.delete(connection)
    response = post_event(client, tenant, envelope("acc-1", "1"))
    assert response.status_code == 401
    assert "no Accord signing secret" in _error(response)["message"]
    assert stored_events(db, tenant) == 0


def test_an_unknown_workspace_is_404(client: TestClient, accord_tenant: AccordTenant) -> None:
    body = json.dumps(envelope("acc-1", "1")).encode()
    response = client.post("/webhooks/accord/no-such-workspace", content=body, headers=signed(body))
    assert response.status_code == 404


@pytest.mark.parametrize("body", [b"{not json", b"[]", b"null"])
def test_a_signed_body_that_is_not_a_json_object_is_400(
    client: TestClient, db: Database, accord_tenant: AccordTenant, hubspot: HubSpotSandbox, body: bytes
) -> None:
    response = post_event(client, accord_tenant, body)
    assert response.status_code == 400, response.text
    assert _error(response)["code"] == "bad_request"
    _assert_nothing_stored_or_pushed(db, accord_tenant, hubspot)


def test_a_body_larger_than_64_kib_is_413(client: TestClient, db: Database, accord_tenant: AccordTenant) -> None:
    event = envelope("acc-1", "1", padding="x" * 70_000)
    response = post_event(client, accord_tenant, event)
    assert response.status_code == 413
    assert stored_events(db, accord_tenant) == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"status": "Late"}, "accord.status"),
        ({"progress": 140}, "accord.progress"),
        ({"progress": -5}, "accord.progress"),
        ({"customers_invited": -1}, "accord.customers_invited"),
        ({"customers_accepted": -1}, "accord.customers_accepted"),
        ({"customers_invited": 2, "customers_accepted": 5}, "accord.customers_accepted"),
        ({"hubspot_deal_id": None}, "accord.hubspot_deal_id"),
        ({"trigger": "comment.created"}, "trigger"),
    ],
)
def test_invalid_values_are_422_naming_the_field_and_nothing_is_stored_or_pushed(
    client: TestClient,
    db: Database,
    accord_tenant: AccordTenant,
    hubspot: HubSpotSandbox,
    overrides: dict[str, Any],
    field: str,
) -> None:
    (deal,) = hubspot.deals(1)
    trigger = overrides.pop("trigger", "accord.viewed")
    event = envelope("acc-1", deal, trigger=trigger, **overrides)
    response = post_event(client, accord_tenant, event)
    assert response.status_code == 422, response.text
    error = _error(response)
    assert error["code"] == "validation_error"
    assert [problem["field"] for problem in error["details"]] == [field]
    assert error["message"].startswith(field + ":")
    _assert_nothing_stored_or_pushed(db, accord_tenant, hubspot)


def test_the_missing_deal_is_refused_only_while_the_accord_is_unlinked(
    client: TestClient, db: Database, accord_tenant: AccordTenant, hubspot: HubSpotSandbox
) -> None:
    refused = post_event(client, accord_tenant, envelope("acc-1", None))
    assert refused.status_code == 422
    assert "Accord acc-1 is not linked to a HubSpot deal yet" in _error(refused)["message"]
    (deal,) = hubspot.deals(1)
    assert post_event(client, accord_tenant, envelope("acc-1", deal)).status_code == 200
    assert post_event(client, accord_tenant, envelope("acc-1", None)).status_code == 200


def test_a_second_accord_naming_a_linked_deal_is_stored_but_flagged(
    client: TestClient, db: Database, accord_tenant: AccordTenant, hubspot: HubSpotSandbox
) -> None:
    (deal,) = hubspot.deals(1)
    assert post_event(client, accord_tenant, envelope("acc-1", deal)).status_code == 200
    assert post_event(client, accord_tenant, envelope("acc-2", deal)).status_code == 200
    second = link_of(db, accord_tenant, "acc-2")
    assert second is not None
    assert (second.deal_id, second.requested_deal_id, second.flagged, second.flag_reason) == (
        None,
        deal,
        True,
        "deal_taken",
    )
    assert "already linked to Accord acc-1" in (second.flag_detail or "")


def test_a_link_insert_that_loses_a_race_leaves_the_transaction_usable(db: Database, hubspot: HubSpotSandbox) -> None:
    from interlink.accord.service import insert_link, link_from_event
    from interlink.models import AccordLink

    tenant = create_accord_tenant(db, hubspot)
    with db.transaction() as session:
        first = link_from_event(session, tenant.workspace_id, "acc-1", "501", event_ids=[])
        # What a concurrent request would have inserted first: the same Accord, and another on the same deal.
        again = AccordLink(workspace_id=tenant.workspace_id, accord_id="acc-1", linked_by="event")
        assert insert_link(session, again) is None
        twin = AccordLink(workspace_id=tenant.workspace_id, accord_id="acc-2", deal_id="501", linked_by="event")
        assert insert_link(session, twin) is None
        assert link_from_event(session, tenant.workspace_id, "acc-1", "501", event_ids=[]) is first
        second = link_from_event(session, tenant.workspace_id, "acc-2", "501", event_ids=[])
        assert (second.deal_id, second.flag_reason) == (None, "deal_taken")
    assert link_of(db, tenant, "acc-2") is not None
