"""Issue 6's acceptance scenarios on real Celery workers: ``interlink worker`` processes on Redis process the
webhooks the simulators send (over loopback HTTP), against the test database; nothing is drained in this process.
The simulators' own call logs count the writes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from interlink.db import Database
from tests.fixtures.celery import WorkerProcess
from tests.fixtures.services import require_postgres
from tests.fixtures.world import World
from tests.jobs.support import accelo_emails
from tests.jobs.test_celery import LoopbackWorld, loopback  # noqa: F401 - loopback is the fixture below builds on
from tests.support.waiting import wait_for
from tests.sync.celery_support import (
    CONVERGE_SECONDS,
    as_world,
    claimants,
    end_at_once,
    eventually,
    ledger_mark,
    ledger_since,
    linked_contact,
    logs,
    open_link,
    quiet,
    redeliver_hubspot,
    settle_on_workers,
)
from tests.sync.test_end_to_end import ADA, affiliation_of, hubspot_value, links, writes

pytestmark = [pytest.mark.redis, pytest.mark.celery]

# Claim events as soon as they are due, as the in-process tests do (make_settings); batching a trickle of
# webhooks is tested on its own.
WORKER_ENV = {"INTERLINK_INBOX_LINGER_SECONDS": "0"}

StartWorker = Callable[..., WorkerProcess]


@pytest.fixture
def celery_world(loopback: LoopbackWorld, db: Database) -> World:  # noqa: F811 - the imported fixture
    """The loopback world as a ``World``; ``db`` is asked for so the tables are emptied after the test."""
    return as_world(loopback)


@pytest.fixture
def one_worker(start_worker: StartWorker) -> Iterator[list[WorkerProcess]]:
    """One ``interlink worker`` process. Ask for it before ``celery_world``: it boots while the world is built."""
    workers = [start_worker(**WORKER_ENV)]
    yield workers
    end_at_once(workers)


@pytest.fixture
def two_workers(start_worker: StartWorker) -> Iterator[list[WorkerProcess]]:
    """Two ``interlink worker`` processes that claim one event at a time, so two events about one record are
    processed by both. They serialise on PostgreSQL advisory locks, so PostgreSQL is required."""
    require_postgres()
    workers = [start_worker(**WORKER_ENV, INTERLINK_INBOX_BATCH_SIZE="1") for _ in range(2)]
    yield workers
    end_at_once(workers)


def contact_pull_rule(world: World) -> dict[str, Any]:
    slots = world.api.get("/api/v1/sync-rules", headers=world.tenant.headers).json()
    (slot,) = [s for s in slots if (s["object_type"], s["direction"]) == ("contact", "pull")]
    rule: dict[str, Any] = slot["rule"]
    return rule


def change_contact_pull_rule(world: World, condition: dict[str, Any]) -> None:
    rule = contact_pull_rule(world)
    response = world.api.patch(
        f"/api/v1/sync-rules/{rule['id']}", json={"condition": condition}, headers=world.tenant.headers
    )
    assert response.status_code == 200, response.text


def accelo_value(world: World, accelo_id: int, name: str) -> Any:
    record = world.accelo.record("contact", accelo_id)
    return None if record is None else record.get(name)


def test_a_worker_creates_the_contact_the_pull_rule_accepts_with_its_company_skips_the_other_and_then_syncs_both_ways(
    one_worker: list[WorkerProcess], celery_world: World
) -> None:
    world, workers = celery_world, one_worker
    change_contact_pull_rule(world, {"field": "lifecyclestage", "op": "eq", "value": "customer"})
    company = world.hubspot.create_as_user("companies", {"name": "Analytical Engines Ltd", "domain": "engines.example"})
    ada = str(world.hubspot.create_as_user("contacts", ADA)["id"])
    charles_lead = {"email": "charles@engines.example", "firstname": "Charles", "lastname": "Babbage"}
    charles = str(world.hubspot.create_as_user("contacts", {**charles_lead, "lifecyclestage": "lead"})["id"])
    for contact in (ada, charles):
        world.hubspot.associate_as_user("contacts", contact, "companies", company["id"])

    def skipped(contact: str) -> list[Any]:
        return [e for e in ledger_since(world, 0) if e.action == "skipped_by_rule" and e.hubspot_id == contact]

    eventually(
        world,
        lambda: (link := open_link(world, "contact", ada)) is not None and link.state == "in_sync" and skipped(charles),
        "Ada to be created in Accelo and Charles to be skipped",
        workers,
    )
    contact_link, company_link = open_link(world, "contact", ada), open_link(world, "company", str(company["id"]))
    assert contact_link is not None
    assert company_link is not None
    accelo_id = int(contact_link.accelo_id or 0)
    assert accelo_value(world, accelo_id, "firstname") == "Ada"
    assert accelo_value(world, accelo_id, "surname") == "Lovelace"
    assert world.accelo.record("company", int(company_link.accelo_id or 0))["name"] == "Analytical Engines Ltd"
    assert str(affiliation_of(world, accelo_id)["company"]) == company_link.accelo_id  # Ada works there
    assert open_link(world, "contact", charles) is None
    assert "charles@engines.example" not in accelo_emails(world.accelo)
    assert "lifecyclestage eq 'customer'" in (skipped(charles)[-1].reason or "")

    # Now the rule would refuse Ada; she is linked, so her updates still flow both ways.
    change_contact_pull_rule(world, {"field": "lifecyclestage", "op": "eq", "value": "evangelist"})
    world.hubspot.update_as_user("contacts", ada, {"firstname": "Augusta Ada"})
    eventually(
        world, lambda: accelo_value(world, accelo_id, "firstname") == "Augusta Ada", "HubSpot's edit in Accelo", workers
    )
    world.accelo.user_update_contact(accelo_id, surname="King")
    eventually(world, lambda: hubspot_value(world, ada, "lastname") == "King", "Accelo's edit in HubSpot", workers)
    assert open_link(world, "contact", charles) is None


def test_on_a_worker_an_evangelist_stays_evangelist_and_our_own_writes_echo_back_with_no_further_writes(
    one_worker: list[WorkerProcess], celery_world: World
) -> None:
    world, workers = celery_world, one_worker
    arrows = {
        (m["direction"], m["source_value"], m["target_value"])
        for m in world.api.get("/api/v1/status-mappings?object_type=contact", headers=world.tenant.headers).json()
    }
    assert {("h2a", "customer", "Active"), ("h2a", "evangelist", "Active"), ("a2h", "Active", "customer")} <= arrows
    contact, accelo_id, link = linked_contact(world, workers)  # customer <-> Active
    active = world.accelo.status_id("contact", "Active")
    assert world.accelo.status_of("contact", accelo_id) == active

    def decided_since(mark: int, action: str | None = None) -> bool:
        return any(e.link_id == link.id and action in {None, e.action} for e in ledger_since(world, mark))

    # evangelist and Active agree (evangelist -> Active): nothing to write either way.
    mark, before = ledger_mark(world), writes(world)
    world.hubspot.update_as_user("contacts", contact, {"lifecyclestage": "evangelist"})
    eventually(world, lambda: decided_since(mark), "the move to evangelist to be reconciled", workers)
    assert writes(world) == before
    assert world.accelo.status_of("contact", accelo_id) == active

    # HubSpot -> Accelo: one PUT, and Accelo's webhook for it sends nothing back.
    (hubspot_before, accelo_before), mark = writes(world), ledger_mark(world)
    world.hubspot.update_as_user("contacts", contact, {"firstname": "Augusta"})
    eventually(
        world,
        lambda: accelo_value(world, accelo_id, "firstname") == "Augusta" and decided_since(mark, "echo_ignored"),
        "the edit in Accelo and Accelo's webhook for it to be processed",
        workers,
    )
    hubspot_after, accelo_after = writes(world)
    assert (hubspot_after - hubspot_before, accelo_after - accelo_before) == (0, 1)

    # Accelo -> HubSpot, an edit unrelated to the status: one batch update that leaves evangelist alone, and
    # HubSpot's webhook for it sends nothing back.
    (hubspot_before, accelo_before), mark = writes(world), ledger_mark(world)
    world.accelo.user_update_contact(accelo_id, surname="King")
    eventually(
        world,
        lambda: hubspot_value(world, contact, "lastname") == "King" and decided_since(mark, "echo_ignored"),
        "the edit in HubSpot and HubSpot's webhook for it to be processed",
        workers,
    )
    hubspot_after, accelo_after = writes(world)
    assert (hubspot_after - hubspot_before, accelo_after - accelo_before) == (1, 0)
    assert hubspot_value(world, contact, "lifecyclestage") == "evangelist"
    assert world.accelo.status_of("contact", accelo_id) == active
    assert (hubspot_value(world, contact, "firstname"), accelo_value(world, accelo_id, "surname")) == (
        "Augusta",
        "King",
    )
    assert [e.action for e in ledger_since(world, 0) if e.action in {"failed", "needs_review"}] == []


def test_on_a_worker_webhooks_delivered_three_times_and_out_of_order_give_one_correct_result(
    one_worker: list[WorkerProcess], celery_world: World
) -> None:
    world, workers = celery_world, one_worker
    contact, accelo_id, _ = linked_contact(world, workers)

    # HubSpot sends every batch twice, reversed and delayed so later ones overtake earlier ones.
    hubspot_before, accelo_before = writes(world)
    world.hubspot.configure_webhooks(duplicate=True, out_of_order=True)
    first_sent = len(world.hubspot.webhooks.sent)
    with world.hubspot.lock:  # three quick edits, all made before anyone reads: one write is the right answer
        for name in ("First", "Second", "Third"):
            world.hubspot.update_as_user("contacts", contact, {"firstname": name})
    eventually(
        world, lambda: accelo_value(world, accelo_id, "firstname") == "Third", "the last edit in Accelo", workers
    )
    # ...and then retries the first edit's batch a third time, late: it says "First", which is stale.
    stale = world.hubspot.webhooks.sent[first_sent].events
    assert [event.get("propertyValue") for event in stale if event.get("propertyName") == "firstname"] == ["First"]
    redeliver_hubspot(world, stale, attempt=2)
    settle_on_workers(world, workers, "the late redelivery")
    assert accelo_value(world, accelo_id, "firstname") == "Third"
    assert hubspot_value(world, contact, "firstname") == "Third"
    hubspot_after, accelo_after = writes(world)
    assert (hubspot_after - hubspot_before, accelo_after - accelo_before) == (0, 1)

    # Accelo's notification of one edit, delivered three times.
    hubspot_before, accelo_before = writes(world)
    with world.accelo.lock:
        (subscription,) = [
            dict(row) for row in world.accelo.state.subscriptions.rows.values() if row["event_id"] == "update_contact"
        ]
    world.accelo.user_update_contact(accelo_id, surname="King")  # the first delivery, as Accelo sends it
    for _ in range(2):
        assert world.accelo.webhooks.dispatch_now(subscription, accelo_id) == 200
    eventually(world, lambda: hubspot_value(world, contact, "lastname") == "King", "Accelo's edit in HubSpot", workers)
    hubspot_after, accelo_after = writes(world)
    assert (hubspot_after - hubspot_before, accelo_after - accelo_before) == (1, 0)
    assert len(links(world, "contact")) == 1
    assert len(world.accelo.state.contacts.rows) == 1


@pytest.mark.postgres
def test_two_worker_processes_with_events_for_the_same_new_contact_create_exactly_one_in_accelo(
    two_workers: list[WorkerProcess], celery_world: World
) -> None:
    world, workers = celery_world, two_workers
    company = str(world.hubspot.create_as_user("companies", {"name": "Difference Engines"})["id"])
    eventually(world, lambda: open_link(world, "company", company), "the company to be linked", workers, timeout=60)
    # Both processes must be up before the contact's events arrive, or one would take them all.
    wait_for(lambda: all(" ready." in w.log() for w in workers), timeout=60, what=f"both workers\n{logs(workers)}")
    world.accelo.latency_seconds = 0.2  # a slower Accelo keeps the first worker busy while the second claims

    email = "ada@difference.example"
    contact = str(world.hubspot.create_as_user("contacts", {**ADA, "email": email})["id"])
    world.hubspot.associate_as_user("contacts", contact, "companies", company)
    at_once: set[str] = set()  # the most worker processes seen holding the contact's events at one moment

    def settled() -> bool:
        holders = claimants(world, "contact", contact)
        if len(holders) > len(at_once):
            at_once.clear()
            at_once.update(holders)
        return open_link(world, "contact", contact) is not None and quiet(world)

    wait_for(settled, timeout=CONVERGE_SECONDS, interval=0.02, what=f"the contact to be synced\n{logs(workers)}")
    assert len(at_once) == 2, f"both processes should have held the contact's events at once: {at_once}"
    assert accelo_emails(world.accelo)[email] == 1
    (link,) = links(world, "contact")
    assert link.state == "in_sync", link.state_reason
    created = [e for e in ledger_since(world, 0) if e.action == "created" and e.object_type == "contact"]
    assert len(created) == 1
