"""The push: Accord data onto HubSpot deals, written only where it changed, many deals per call."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from interlink.connectors.hubspot.schemas import PropertySpec
from interlink.db import Database
from tests.accord.support import (
    BATCH_UPDATE,
    AccordTenant,
    HubSpotSandbox,
    accept,
    drain,
    envelope,
    events_by_status,
    ledger_rows,
    link_of,
    next_time,
)

FULL = {
    "accord_url": "https://app.inaccord.com/accords/acc-1",
    "accord_status": "On Track",
    "current_stage": "Technical validation",
    "number_of_customers_invited": "4",
    "number_of_customers_accepted": "3",
    "accord_progress": "45",
    "accord_execution_score": "82.5",
}


@pytest.fixture
def provisioned(client: TestClient, accord_tenant: AccordTenant, hubspot: HubSpotSandbox) -> AccordTenant:
    response = client.post("/api/v1/accord/provision", headers=accord_tenant.headers)
    assert response.status_code == 200
    assert response.json()["group"]["status"] == "created"
    hubspot.reset_calls()
    return accord_tenant


def accord_values(hubspot: HubSpotSandbox, deal_id: str) -> dict[str, str | None]:
    properties = hubspot.deal(deal_id)
    return {name: properties.get(name) for name in FULL}


def history_length(hubspot: HubSpotSandbox, deal_id: str, name: str) -> int:
    record = hubspot.simulator.record("deals", deal_id, properties=[name], history=[name])
    assert record is not None
    return len(record["propertiesWithHistory"][name])


def test_the_first_event_writes_all_seven_values_in_one_call(
    db: Database, provisioned: AccordTenant, hubspot: HubSpotSandbox
) -> None:
    (deal,) = hubspot.deals(1)
    accept(db, provisioned, envelope("acc-1", deal, trigger="accord.created"))
    drain(db, provisioned)
    assert accord_values(hubspot, deal) == FULL
    assert hubspot.calls() == 1
    assert hubspot.calls(method="POST", route=BATCH_UPDATE) == 1
    assert events_by_status(db, provisioned) == {"done": 1}
    pushed = ledger_rows(db, provisioned, "accord_pushed")
    assert sorted(row.field for row in pushed if row.field) == sorted(FULL)
    assert all(row.hubspot_id == deal and row.direction == "to_hubspot" for row in pushed)
    link = link_of(db, provisioned, "acc-1")
    assert link is not None
    assert link.pushed == {**FULL}
    assert link.last_pushed_at is not None


def test_a_thousand_unchanged_views_cost_no_hubspot_call_and_one_change_writes_only_what_changed(
    db: Database, provisioned: AccordTenant, hubspot: HubSpotSandbox
) -> None:
    (deal,) = hubspot.deals(1)
    accept(db, provisioned, envelope("acc-1", deal, trigger="accord.created"))
    drain(db, provisioned)
    hubspot.reset_calls()
    before = {name: history_length(hubspot, deal, name) for name in FULL}

    for _ in range(1000):
        assert accept(db, provisioned, envelope("acc-1", None, trigger="accord.viewed")) == "accepted"
    drain(db, provisioned)
    assert hubspot.calls() == 0  # not a write, not even a read
    assert events_by_status(db, provisioned) == {"done": 1001}
    unchanged = ledger_rows(db, provisioned, "accord_unchanged")
    assert sum(len(row.event_ids) for row in unchanged) == 1000  # every event is accounted for on the ledger
    assert len(unchanged) == 10  # one row per Accord per batch of 100 events
    assert len(ledger_rows(db, provisioned, "accord_pushed")) == 7  # the first push only

    accept(db, provisioned, envelope("acc-1", None, trigger="step.updated", progress=60))
    drain(db, provisioned)
    assert hubspot.calls() == 1
    assert hubspot.calls(method="POST", route=BATCH_UPDATE) == 1
    assert accord_values(hubspot, deal) == {**FULL, "accord_progress": "60"}
    after = {name: history_length(hubspot, deal, name) for name in FULL}
    assert {name for name in FULL if after[name] != before[name]} == {"accord_progress"}  # only it was written
    (pushed,) = ledger_rows(db, provisioned, "accord_pushed")[7:]
    assert (pushed.field, pushed.old_value, pushed.new_value) == ("accord_progress", "45", "60")


def test_a_hundred_accords_changed_at_once_cost_one_batch_call(
    db: Database, provisioned: AccordTenant, hubspot: HubSpotSandbox
) -> None:
    deals = hubspot.deals(100)
    for index, deal in enumerate(deals):
        accept(db, provisioned, envelope(f"acc-{index}", deal, trigger="accord.created"))
    drain(db, provisioned)
    assert hubspot.calls(method="POST", route=BATCH_UPDATE) == 1
    hubspot.reset_calls()

    for index in range(100):
        accept(db, provisioned, envelope(f"acc-{index}", None, trigger="step.updated", progress=50 + index % 50))
    drain(db, provisioned)
    assert hubspot.calls() <= 2
    assert hubspot.calls() == 1
    assert all(hubspot.deal(deal)["accord_progress"] == str(50 + index % 50) for index, deal in enumerate(deals))


def test_a_burst_for_one_accord_coalesces_into_one_write_and_the_newest_event_wins(
    db: Database, provisioned: AccordTenant, hubspot: HubSpotSandbox
) -> None:
    (deal,) = hubspot.deals(1)
    accept(db, provisioned, envelope("acc-1", deal, trigger="accord.created"))
    drain(db, provisioned)
    hubspot.reset_calls()
    base = next_time()
    burst = [
        envelope("acc-1", None, trigger="step.updated", occurred_at=base + timedelta(seconds=n), progress=50 + n)
        for n in range(1, 11)
    ]
    random.Random(7).shuffle(burst)  # delivered out of order
    for event in burst:
        accept(db, provisioned, event)
    drain(db, provisioned)
    assert hubspot.calls() == 1
    assert hubspot.deal(deal)["accord_progress"] == "60"
    # An older event arriving after the newer one was applied is stale: nothing written.
    accept(db, provisioned, envelope("acc-1", None, occurred_at=base + timedelta(seconds=5), progress=1))
    drain(db, provisioned)
    assert hubspot.calls() == 1
    assert hubspot.deal(deal)["accord_progress"] == "60"
    assert len(ledger_rows(db, provisioned, "accord_stale")) == 1


def test_renamed_internal_names_are_used_for_the_push(
    client: TestClient, db: Database, provisioned: AccordTenant, hubspot: HubSpotSandbox
) -> None:
    (deal,) = hubspot.deals(1)
    accept(db, provisioned, envelope("acc-1", deal))
    drain(db, provisioned)
    for name, kind in (("plan_health", "string"), ("plan_progress_pct", "number")):
        field_type = "text" if kind == "string" else "number"
        hubspot.client.properties.create(
            "deals",
            PropertySpec(name=name, label=name, type=kind, field_type=field_type, group_name="dealinformation"),
        )
    saved = client.put(
        "/api/v1/accord/properties",
        headers=provisioned.headers,
        json={"status": "plan_health", "progress": "plan_progress_pct"},
    )
    assert saved.status_code == 200, saved.text
    hubspot.reset_calls()

    accept(db, provisioned, envelope("acc-1", None, trigger="step.updated", status="At Risk"))
    drain(db, provisioned)
    properties = hubspot.deal(deal)
    assert properties["plan_health"] == "At Risk"
    assert properties["plan_progress_pct"] == "45"  # new to this deal under its new name, so written once
    assert properties["accord_status"] == "On Track"  # the old property is no longer ours
    assert hubspot.calls() == 1
    link = link_of(db, provisioned, "acc-1")
    assert link is not None
    assert "accord_status" not in link.pushed
    assert link.pushed["plan_health"] == "At Risk"

    accept(db, provisioned, envelope("acc-1", None, status="At Risk"))
    drain(db, provisioned)
    assert hubspot.calls() == 1  # unchanged under the new names too


def test_an_event_naming_another_deal_flags_the_link_and_holds_the_push_until_relinked(
    client: TestClient, db: Database, provisioned: AccordTenant, hubspot: HubSpotSandbox
) -> None:
    first, second = hubspot.deals(2)
    accept(db, provisioned, envelope("acc-1", first))
    drain(db, provisioned)
    hubspot.reset_calls()

    accept(db, provisioned, envelope("acc-1", second, trigger="step.updated", progress=70))
    drain(db, provisioned)
    assert hubspot.calls() == 0
    link = link_of(db, provisioned, "acc-1")
    assert link is not None
    assert (link.deal_id, link.requested_deal_id, link.flagged, link.flag_reason) == (
        first,
        second,
        True,
        "deal_mismatch",
    )
    assert link.snapshot["progress"] == 70  # kept, so the relink can push it
    flagged = client.get("/api/v1/accord/links?flagged=true", headers=provisioned.headers).json()["items"]
    assert [item["accord_id"] for item in flagged] == ["acc-1"]
    assert ledger_rows(db, provisioned, "accord_held")

    relinked = client.put("/api/v1/accord/links/acc-1", headers=provisioned.headers, json={"deal_id": second})
    assert relinked.status_code == 200, relinked.text
    assert relinked.json()["queued"] is True
    assert relinked.json()["link"]["flagged"] is False
    drain(db, provisioned)
    assert accord_values(hubspot, second) == {**FULL, "accord_progress": "70"}
    assert hubspot.deal(first)["accord_progress"] == "45"  # the old deal keeps what it had
    (relink,) = ledger_rows(db, provisioned, "accord_relinked")
    assert (relink.old_value, relink.new_value) == (first, second)


def test_a_deleted_deal_flags_the_link_with_the_reason(
    client: TestClient, db: Database, provisioned: AccordTenant, hubspot: HubSpotSandbox
) -> None:
    gone, kept = hubspot.deals(2)
    accept(db, provisioned, envelope("acc-1", gone))
    accept(db, provisioned, envelope("acc-2", kept))
    drain(db, provisioned)
    hubspot.simulator.archive_as_user("deals", gone)

    accept(db, provisioned, envelope("acc-1", None, progress=80))
    accept(db, provisioned, envelope("acc-2", None, progress=80))
    drain(db, provisioned)
    link = link_of(db, provisioned, "acc-1")
    assert link is not None
    assert link.flagged
    assert link.flag_reason == "deal_missing"
    assert f"HubSpot has no deal {gone}" in (link.flag_detail or "")
    assert hubspot.deal(kept)["accord_progress"] == "80"  # one missing deal does not hold up the others
    assert events_by_status(db, provisioned) == {"done": 4}

    hubspot.reset_calls()
    accept(db, provisioned, envelope("acc-1", None, progress=90))
    drain(db, provisioned)
    assert hubspot.calls() == 0  # held while flagged
    (replacement,) = hubspot.deals(1)
    assert (
        client.put("/api/v1/accord/links/acc-1", headers=provisioned.headers, json={"deal_id": replacement}).status_code
        == 200
    )
    drain(db, provisioned)
    assert hubspot.deal(replacement)["accord_progress"] == "90"


def test_a_merged_deal_is_followed(db: Database, provisioned: AccordTenant, hubspot: HubSpotSandbox) -> None:
    survivor, merged = hubspot.deals(2)
    accept(db, provisioned, envelope("acc-1", merged))
    drain(db, provisioned)
    hubspot.simulator.merge_as_user("deals", survivor, merged)
    accept(db, provisioned, envelope("acc-1", None, progress=55))
    drain(db, provisioned)
    link = link_of(db, provisioned, "acc-1")
    assert link is not None
    assert not link.flagged
    assert link.deal_id == hubspot.simulator.record("deals", merged)["id"]  # type: ignore[index]
    assert hubspot.deal(link.deal_id)["accord_progress"] == "55"


def test_two_linked_deals_merged_into_one_keep_one_accord_and_flag_the_other(
    db: Database, provisioned: AccordTenant, hubspot: HubSpotSandbox
) -> None:
    first, second = hubspot.deals(2)
    accept(db, provisioned, envelope("acc-1", first))
    accept(db, provisioned, envelope("acc-2", second, status="Stalled"))
    drain(db, provisioned)
    merged = hubspot.simulator.merge_as_user("deals", first, second)
    accept(db, provisioned, envelope("acc-2", None, status="At Risk"))
    drain(db, provisioned)
    hubspot.reset_calls()
    accept(db, provisioned, envelope("acc-1", None, status="On Track", progress=99))
    drain(db, provisioned)

    kept, flagged = link_of(db, provisioned, "acc-2"), link_of(db, provisioned, "acc-1")
    assert kept is not None
    assert flagged is not None
    assert (kept.deal_id, kept.flagged, kept.linked_by) == (merged["id"], False, "merge")
    assert (flagged.flagged, flagged.flag_reason, flagged.requested_deal_id) == (True, "deal_taken", merged["id"])
    assert "already linked to Accord acc-2" in (flagged.flag_detail or "")
    assert hubspot.writes() == 1  # acc-1's refused batch update: nothing of acc-1 reached acc-2's deal
    assert hubspot.deal(merged["id"])["accord_status"] == "At Risk"


def test_a_hubspot_refusal_sends_the_events_back_and_nothing_is_lost(
    db: Database, provisioned: AccordTenant, hubspot: HubSpotSandbox
) -> None:
    (deal,) = hubspot.deals(1)
    hubspot.simulator.inject_fault(BATCH_UPDATE, status=401, times=1)
    accept(db, provisioned, envelope("acc-1", deal))
    drain(db, provisioned)
    assert events_by_status(db, provisioned) == {"pending": 1}
    (failed,) = ledger_rows(db, provisioned, "accord_failed")
    assert "HTTP 401" in (failed.reason or "")
    link = link_of(db, provisioned, "acc-1")
    assert link is not None
    assert link.pushed == {}

    with db.transaction() as session:  # the retry's backoff, fast-forwarded
        from sqlalchemy import update

        from interlink.kit.time import utc_now
        from interlink.models import InboundEvent

        session.execute(update(InboundEvent).values(next_attempt_at=utc_now()))
    drain(db, provisioned)
    assert events_by_status(db, provisioned) == {"done": 1}
    assert accord_values(hubspot, deal) == FULL


def test_unprovisioned_properties_retry_with_a_hint(
    db: Database, accord_tenant: AccordTenant, hubspot: HubSpotSandbox
) -> None:
    (deal,) = hubspot.deals(1)
    accept(db, accord_tenant, envelope("acc-1", deal))
    drain(db, accord_tenant)
    assert events_by_status(db, accord_tenant) == {"pending": 1}
    (failed,) = ledger_rows(db, accord_tenant, "accord_failed")
    assert "interlink accord provision" in (failed.reason or "") or "does not exist" in (failed.reason or "")
    link = link_of(db, accord_tenant, "acc-1")
    assert link is not None
    assert not link.flagged


def test_a_forced_push_rewrites_every_property(
    client: TestClient, db: Database, provisioned: AccordTenant, hubspot: HubSpotSandbox
) -> None:
    (deal,) = hubspot.deals(1)
    accept(db, provisioned, envelope("acc-1", deal))
    drain(db, provisioned)
    hubspot.simulator.update_as_user("deals", deal, {"accord_status": "Stalled"})  # edited by hand in HubSpot
    hubspot.reset_calls()

    plain = client.post("/api/v1/accord/links/acc-1/push", headers=provisioned.headers)
    assert plain.json()["queued"] is True
    drain(db, provisioned)
    assert hubspot.calls() == 0  # nothing changed since our last push
    forced = client.post("/api/v1/accord/links/acc-1/push", headers=provisioned.headers, json={"force": True})
    assert forced.status_code == 200
    drain(db, provisioned)
    assert hubspot.calls() == 1
    assert hubspot.deal(deal)["accord_status"] == "On Track"


def test_links_rest_lists_reads_links_and_unlinks(
    client: TestClient, db: Database, provisioned: AccordTenant, hubspot: HubSpotSandbox
) -> None:
    headers = provisioned.headers
    first, second, third = hubspot.deals(3)
    for index, deal in enumerate((first, second)):
        accept(db, provisioned, envelope(f"acc-{index}", deal))
    drain(db, provisioned)

    page = client.get("/api/v1/accord/links?limit=1", headers=headers).json()
    assert [item["accord_id"] for item in page["items"]] == ["acc-0"]
    rest = client.get(f"/api/v1/accord/links?limit=1&cursor={page['next_cursor']}", headers=headers).json()
    assert [item["accord_id"] for item in rest["items"]] == ["acc-1"]
    assert rest["next_cursor"] is None
    one = client.get("/api/v1/accord/links/acc-0", headers=headers).json()
    assert one["deal_id"] == first
    assert one["pushed"]["accord_progress"] == "45"
    assert client.get("/api/v1/accord/links/nope", headers=headers).status_code == 404

    created = client.put("/api/v1/accord/links/acc-new", headers=headers, json={"deal_id": int(third)})
    assert created.status_code == 200
    assert created.json()["link"]["linked_by"] == "api"
    assert created.json()["queued"] is False  # no Accord data yet
    taken = client.put("/api/v1/accord/links/acc-new", headers=headers, json={"deal_id": first})
    assert taken.status_code == 409
    assert "already linked to Accord acc-0" in taken.json()["error"]["message"]
    unknown = client.put("/api/v1/accord/links/acc-new", headers=headers, json={"deal_id": "999999999"})
    assert unknown.status_code == 422
    assert unknown.json()["error"]["details"][0]["field"] == "deal_id"
    assert client.put("/api/v1/accord/links/acc-new", headers=headers, json={"deal_id": "x1"}).status_code == 422

    assert client.delete("/api/v1/accord/links/acc-0", headers=headers).status_code == 200
    assert client.get("/api/v1/accord/links/acc-0", headers=headers).status_code == 404
    assert client.get("/api/v1/accord/links", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_a_workspace_sees_only_its_own_links(
    client: TestClient, db: Database, provisioned: AccordTenant, hubspot: HubSpotSandbox
) -> None:
    from tests.accord.support import create_accord_tenant

    (deal,) = hubspot.deals(1)
    accept(db, provisioned, envelope("acc-1", deal))
    other = create_accord_tenant(db, None)
    assert client.get("/api/v1/accord/links/acc-1", headers=other.headers).status_code == 404
    assert client.get("/api/v1/accord/links", headers=other.headers).json()["items"] == []
