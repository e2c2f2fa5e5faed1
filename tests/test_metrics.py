"""``/metrics`` as Prometheus scrapes it, after real activity: webhooks in, events processed (and one that keeps
failing), writes made in the other system, a 429 from a vendor. Counters are process-wide, so each test compares
two scrapes; gauges read from the database are compared as they are."""

from __future__ import annotations

import time
from collections.abc import Mapping

from prometheus_client.parser import text_string_to_metric_families

from tests.fixtures.world import World
from tests.sync.test_end_to_end import linked_contact, refuse_accelo_writes

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(world: World) -> Samples:
    response = world.api.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum of ``name``'s samples whose labels include ``labels`` (0 when there are none)."""
    wanted = set(labels.items())
    return sum(v for (n, got), v in samples.items() if n == name and wanted <= got)


def grew(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def labelled(samples: Samples, name: str) -> list[Mapping[str, str]]:
    return [dict(labels) for (n, labels), v in samples.items() if n == name and v > 0]


def test_events_writes_latency_vendor_calls_lag_and_link_states_after_a_real_sync(world: World) -> None:
    started = time.monotonic()
    before = scrape(world)
    contact, accelo_id, _ = linked_contact(world)

    # An edit whose webhook is in the inbox but not yet processed: the inbox lag shows it.
    world.hubspot.update_as_user("contacts", contact, {"firstname": "Augusta"})
    world.hubspot.webhooks.flush(30)
    edited = time.monotonic()
    waiting = scrape(world)
    assert value(waiting, "interlink_inbox_pending", source="hubspot") == 1
    lag = value(waiting, "interlink_inbox_lag_seconds")
    assert 0 < lag <= time.monotonic() - started

    world.settle()
    assert world.accelo.record("contact", accelo_id)["firstname"] == "Augusta"
    after = scrape(world)

    # events received and processed, by source (Accelo's webhooks are the echoes of our writes)
    assert grew(before, after, "interlink_events_received_total", source="hubspot") >= 2
    assert grew(before, after, "interlink_events_received_total", source="accelo") >= 1
    assert grew(before, after, "interlink_events_processed_total", source="hubspot", outcome="done") >= 2
    assert grew(before, after, "interlink_events_processed_total", source="accelo", outcome="done") >= 1
    assert grew(before, after, "interlink_events_processed_total", outcome="failed") == 0

    # the inbox is empty again
    assert value(after, "interlink_inbox_lag_seconds") == 0
    assert value(after, "interlink_inbox_pending") == 0

    # vendor calls by vendor, route and status: the Accelo contact PUT that carried the edit, HubSpot's reads
    assert (
        grew(before, after, "interlink_vendor_calls_total", vendor="accelo", route="/contacts/{id}", status="200") >= 1
    )
    hubspot_routes = {
        labels["route"] for labels in labelled(after, "interlink_vendor_calls_total") if labels["vendor"] == "hubspot"
    }
    assert any("batch/read" in route for route in hubspot_routes), hubspot_routes
    assert grew(before, after, "interlink_vendor_calls_total", status="429") == 0

    # records by link state: the company and the contact, both in sync
    assert value(after, "interlink_links", object_type="contact", state="in_sync") == 1
    assert value(after, "interlink_links", object_type="company", state="in_sync") == 1

    # sync latency, webhook received -> write applied: the creation and the edit came from HubSpot
    writes = grew(before, after, "interlink_sync_latency_seconds_count", source="hubspot")
    assert writes >= 2
    seconds = grew(before, after, "interlink_sync_latency_seconds_sum", source="hubspot")
    assert 0 < seconds <= writes * (time.monotonic() - started)
    assert grew(before, after, "interlink_sync_latency_seconds_bucket", source="hubspot", le="+Inf") == writes
    assert edited > started


def test_a_vendors_429_is_counted_as_a_call_and_as_a_rate_limit(world: World) -> None:
    contact, _, _ = linked_contact(world)
    before = scrape(world)
    world.hubspot.inject_rate_limit("/crm/v3/objects/{object_type}/batch/read", headers={"Retry-After": "0.1"})
    world.hubspot.update_as_user("contacts", contact, {"jobtitle": "Countess"})
    world.settle()
    after = scrape(world)
    assert grew(before, after, "interlink_vendor_rate_limited_total", vendor="hubspot") == 1
    assert grew(before, after, "interlink_vendor_calls_total", vendor="hubspot", status="429") == 1
    assert grew(before, after, "interlink_vendor_rate_limited_total", vendor="accelo") == 0


def test_an_event_whose_write_keeps_failing_is_counted_as_retried_then_failed(world: World) -> None:
    contact, accelo_id, _ = linked_contact(world)
    before = scrape(world)
    refuse_accelo_writes(world, accelo_id)
    world.hubspot.update_as_user("contacts", contact, {"firstname": "Refused"})
    world.settle()
    after = scrape(world)
    attempts = world.settings.inbox_max_attempts
    assert grew(before, after, "interlink_events_processed_total", source="hubspot", outcome="failed") == 1
    assert grew(before, after, "interlink_events_processed_total", source="hubspot", outcome="retried") == attempts - 1
    assert grew(before, after, "interlink_events_processed_total", source="accelo", outcome="failed") == 0
    assert (
        grew(before, after, "interlink_vendor_calls_total", vendor="accelo", route="/contacts/{id}", status="400")
        == attempts
    )
    assert value(after, "interlink_links", object_type="contact", state="failed") == 1
    assert value(after, "interlink_links", object_type="contact", state="in_sync") == 0
