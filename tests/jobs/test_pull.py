"""Bulk pulls and pushes over the simulators: one record per eligible source record, never a second one,
counts and progress ops can follow, filters, cancelling, and the first reconcile of matched records."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

from sqlalchemy import select

from interlink.jobs.runner import run_slice
from interlink.jobs.service import describe
from interlink.models import LedgerEntry
from tests.fixtures.factories import create_tenant
from tests.fixtures.world import World
from tests.jobs.support import (
    accelo_company_names,
    accelo_emails,
    create_everything,
    job_row,
    job_view,
    open_links,
    run_to_end,
    seed_hubspot,
    start_job,
)


def accelo_creates(world: World) -> int:
    calls = world.accelo.calls
    return calls.count(method="POST", route="/api/v0/contacts") + calls.count(method="POST", route="/api/v0/companies")


def test_a_pull_creates_one_accelo_record_per_eligible_hubspot_record_and_a_second_pull_creates_nothing(
    world: World,
) -> None:
    create_everything(world)  # companies with a name, contacts with an email
    seeded = seed_hubspot(world.hubspot, companies=100, contacts_per_company=20)
    no_email = world.hubspot.seed("contacts", [{"firstname": "No", "lastname": f"Email{n}"} for n in range(30)])
    world.accelo.calls.reset()

    first = start_job(world, kind="pull", object_type="both")
    run_to_end(world.db, first)

    view = job_view(world, first)
    assert view["status"] == "completed", view["error"]
    eligible = {f"person{c}-{p}@company{c}.example" for c in range(100) for p in range(20)}
    assert accelo_emails(world.accelo) == Counter(dict.fromkeys(eligible, 1))
    assert accelo_company_names(world.accelo) == Counter({f"Company {c}": 1 for c in range(100)})
    assert accelo_creates(world) == 100 + 2000  # each record created once: no write was sent twice
    assert len(open_links(world.db, "contact")) == 2000
    assert len(open_links(world.db, "company")) == 100
    totals = view["totals"]
    assert (totals["scanned"], totals["created"], totals["linked"]) == (2130, 2100, 2100)
    assert (totals["skipped_by_rule"], totals["failed"], totals["waiting"]) == (len(no_email), 0, 0)
    assert view["progress"] == {**view["progress"], "stage": "finished", "percent": 100.0}
    assert seeded.contacts  # (seeded ids are HubSpot's)

    world.accelo.calls.reset()
    second = start_job(world, kind="pull", object_type="both")
    run_to_end(world.db, second)
    again = job_view(world, second)["totals"]
    assert (again["created"], again["matched_existing"], again["unchanged"]) == (0, 0, 2100)
    assert accelo_creates(world) == 0
    assert accelo_emails(world.accelo) == Counter(dict.fromkeys(eligible, 1))


def test_a_second_pull_updates_the_linked_records_whose_hubspot_side_changed(world: World) -> None:
    create_everything(world)
    seeded = seed_hubspot(world.hubspot, companies=2, contacts_per_company=5)
    first = start_job(world, kind="pull", object_type="both")
    run_to_end(world.db, first)
    assert job_view(world, first)["totals"]["created"] == 12
    twins = {link.hubspot_id: link.accelo_id for t in ("company", "contact") for link in open_links(world.db, t)}

    renamed = {contact: f"Renamed{n}" for n, contact in enumerate(seeded.contacts[:4])}
    for contact, firstname in renamed.items():
        world.hubspot.update_as_user("contacts", contact, {"firstname": firstname})
    world.hubspot.update_as_user("companies", seeded.companies[1], {"name": "Company One, renamed"})
    second = start_job(world, kind="pull", object_type="both")
    run_to_end(world.db, second)

    view = job_view(world, second)
    assert view["status"] == "completed"
    totals = view["totals"]
    assert (totals["updated"], totals["unchanged"], totals["created"], totals["failed"]) == (5, 7, 0, 0)
    assert view["by_object_type"]["contacts"]["updated"] == 4
    for contact, firstname in renamed.items():  # the new values are in Accelo
        assert (world.accelo.record("contact", int(twins[contact])) or {})["firstname"] == firstname
    assert (world.accelo.record("company", int(twins[seeded.companies[1]])) or {})["name"] == "Company One, renamed"
    with world.db.transaction() as session:
        entries = session.scalars(select(LedgerEntry).where(LedgerEntry.job_id == second)).all()
    written = {(e.hubspot_id, e.field, e.new_value) for e in entries if e.action == "updated"}
    assert written == {(contact, "firstname|firstname", name) for contact, name in renamed.items()} | {
        (seeded.companies[1], "name|name", "Company One, renamed")
    }  # each change, on the job's ledger


def test_progress_rate_and_eta_while_a_job_runs_and_the_history(
    world: World, job_settings: Callable[..., None]
) -> None:
    create_everything(world)
    seed_hubspot(world.hubspot, companies=20, contacts_per_company=30)
    job_settings(job_slice_seconds=0.3, job_max_batch=10)
    job_id = start_job(world, kind="pull", object_type="contacts")
    assert job_view(world, job_id)["progress"]["stage"] == "queued"

    seen = []
    while True:
        result = run_slice(world.db, job_id)
        view = job_view(world, job_id)
        seen.append(view)
        if result.status != "more":
            break
        time.sleep(0.05)
    running = [v for v in seen if v["status"] == "running" and v["progress"]["rate_per_second"]]
    assert running, "the job finished in one slice; make it slower"
    middle = running[len(running) // 2]["progress"]
    assert middle["stage"] == "syncing"
    assert middle["object_type"] == "contacts"
    assert middle["total_estimate"] == 600
    assert 0 < middle["percent"] < 100
    assert middle["rate_per_second"] > 0
    assert middle["eta_seconds"] > 0
    assert seen[-1]["status"] == "completed"

    listed = world.api.get("/api/v1/jobs", headers=world.tenant.headers).json()
    assert [item["id"] for item in listed["items"]] == [str(job_id)]
    assert listed["items"][0]["totals"]["scanned"] == 600  # waiting: their companies are not synced
    assert listed["items"][0]["totals"]["waiting"] == 600


def test_a_filter_limits_the_job_to_the_records_it_matches(world: World) -> None:
    create_everything(world)
    seed_hubspot(world.hubspot, companies=3, contacts_per_company=4)
    bad = world.api.post(
        "/api/v1/jobs",
        json={"kind": "pull", "filter": {"contacts": {"field": "no_such_property", "op": "is_set"}}},
        headers=world.tenant.headers,
    )
    assert bad.status_code == 422
    assert "no_such_property" in bad.json()["error"]["message"]

    job_id = start_job(
        world,
        kind="pull",
        object_type="both",
        filter={
            "companies": {"field": "domain", "op": "eq", "value": "company1.example"},
            "contacts": {"field": "email", "op": "contains", "value": "@company1."},
        },
    )
    run_to_end(world.db, job_id)
    view = job_view(world, job_id)
    assert view["filter"]["contacts"] == {"field": "email", "op": "contains", "value": "@company1."}
    assert view["by_object_type"]["companies"]["filtered_out"] == 2
    assert view["by_object_type"]["contacts"]["filtered_out"] == 8
    assert set(accelo_emails(world.accelo)) == {f"person1-{p}@company1.example" for p in range(4)}


def test_one_job_at_a_time_and_cancelling(world: World, job_settings: Callable[..., None]) -> None:
    create_everything(world)
    seed_hubspot(world.hubspot, companies=10, contacts_per_company=10)
    queued = start_job(world, kind="pull")
    busy = world.api.post("/api/v1/jobs", json={"kind": "push"}, headers=world.tenant.headers)
    assert busy.status_code == 409
    assert busy.json()["error"]["details"]["job_id"] == str(queued)

    cancelled = world.api.post(f"/api/v1/jobs/{queued}/cancel", headers=world.tenant.headers).json()
    assert cancelled["status"] == "cancelled"  # no worker held it: at once
    assert run_slice(world.db, queued).status == "not_claimed"
    again = world.api.post(f"/api/v1/jobs/{queued}/cancel", headers=world.tenant.headers)
    assert again.status_code == 409

    job_settings(job_slice_seconds=0.2, job_max_batch=5)
    running = start_job(world, kind="pull")
    assert run_slice(world.db, running).status == "more"
    world.api.post(f"/api/v1/jobs/{running}/cancel", headers=world.tenant.headers)
    assert job_view(world, running)["status"] == "cancelled"  # between slices nobody holds it
    done = job_view(world, running)["totals"]["scanned"]
    assert 0 < done < 110
    resumed = world.api.post(f"/api/v1/jobs/{running}/resume", headers=world.tenant.headers).json()
    assert resumed["status"] == "queued"
    run_to_end(world.db, running)
    final = job_view(world, running)
    assert final["status"] == "completed"
    assert len(accelo_emails(world.accelo)) == 100
    assert max(accelo_emails(world.accelo).values()) == 1


def test_a_job_cancelled_while_a_worker_holds_it_stops_after_the_batch(
    world: World, job_settings: Callable[..., None]
) -> None:
    create_everything(world)
    seed_hubspot(world.hubspot, companies=5, contacts_per_company=10)
    job_settings(job_max_batch=5)
    job_id = start_job(world, kind="pull", object_type="contacts")
    cancelled_at: list[int] = []

    def cancel_after_first_batch(_object_type: str, outcomes: object) -> None:
        if not cancelled_at:
            response = world.api.post(f"/api/v1/jobs/{job_id}/cancel", headers=world.tenant.headers)
            assert response.json()["cancel_requested"] is True
            assert response.json()["status"] == "running"
            cancelled_at.append(1)

    assert run_slice(world.db, job_id, observe=cancel_after_first_batch).status == "cancelled"
    view = job_view(world, job_id)
    assert view["status"] == "cancelled"
    assert view["totals"]["scanned"] == 10


def test_records_matched_to_an_existing_twin_get_their_first_reconcile(world: World) -> None:
    create_everything(world)
    (company,) = world.accelo.seed(
        {
            "companies": [
                {
                    "name": "Company 0",
                    "contacts": [{"firstname": "Adah", "surname": "L", "email": "person0-0@company0.example"}],
                }
            ]
        }
    )["companies"]
    seed_hubspot(world.hubspot, companies=1, contacts_per_company=1)
    job_id = start_job(world, kind="pull", object_type="both")
    run_to_end(world.db, job_id)
    view = job_view(world, job_id)
    assert view["totals"]["matched_existing"] == 2
    assert view["totals"]["created"] == 0
    assert view["totals"]["after_match"] == {"updated": 1, "unchanged": 1}  # the contact's names; the company agrees
    (contact,) = [row for row in world.accelo.state.contacts.rows.values()]
    assert (contact["firstname"], contact["surname"]) == ("First0-0", "Last0-0")  # a pull: HubSpot's values win
    assert company


def test_a_push_creates_hubspot_records_from_accelo_and_a_second_push_creates_nothing(world: World) -> None:
    create_everything(world, direction="push")
    world.accelo.generate(companies=15, contacts_per_company=3)
    job_id = start_job(world, kind="push", object_type="both")
    run_to_end(world.db, job_id)
    view = job_view(world, job_id)
    assert view["status"] == "completed", view["error"]
    assert (view["totals"]["created"], view["totals"]["failed"]) == (15 + 45, 0)
    assert world.hubspot.count("companies") == 15
    assert world.hubspot.count("contacts") == 45

    again = start_job(world, kind="push", object_type="both")
    run_to_end(world.db, again)
    assert job_view(world, again)["totals"]["created"] == 0
    assert world.hubspot.count("companies") == 15
    assert world.hubspot.count("contacts") == 45


def test_describe_is_what_the_admin_screen_builds_on(world: World) -> None:
    create_everything(world)
    job_id = start_job(world, kind="pull", dry_run=True)
    run_to_end(world.db, job_id)
    described = describe(job_row(world.db, job_id))
    assert described.status == "completed"
    assert described.dry_run
    assert described.object_types == ["companies", "contacts"]


def test_history_pages_newest_first_and_jobs_belong_to_their_workspace(world: World) -> None:
    create_everything(world)
    ids = []
    for _ in range(3):
        ids.append(start_job(world, kind="pull", dry_run=True))
        run_to_end(world.db, ids[-1])
    first = world.api.get("/api/v1/jobs?limit=2", headers=world.tenant.headers).json()
    assert [item["id"] for item in first["items"]] == [str(ids[2]), str(ids[1])]
    rest = world.api.get(f"/api/v1/jobs?limit=2&cursor={first['next_cursor']}", headers=world.tenant.headers).json()
    assert [item["id"] for item in rest["items"]] == [str(ids[0])]
    assert rest["next_cursor"] is None
    done = world.api.get("/api/v1/jobs?status=running", headers=world.tenant.headers).json()
    assert done["items"] == []

    other = create_tenant(world.db, "Someone else")
    for method, path in (("get", f"/api/v1/jobs/{ids[0]}"), ("post", f"/api/v1/jobs/{ids[0]}/cancel")):
        response = getattr(world.api, method)(path, headers=other.headers)
        assert response.status_code == 404
    assert world.api.get("/api/v1/jobs", headers=other.headers).json()["items"] == []


def test_a_cancelled_dry_run_resumes_from_the_start(world: World, job_settings: Callable[..., None]) -> None:
    create_everything(world)
    seed_hubspot(world.hubspot, companies=3, contacts_per_company=10)
    job_settings(job_max_batch=5, job_slice_seconds=0.01)
    job_id = start_job(world, kind="pull", dry_run=True)
    run_slice(world.db, job_id)
    world.api.post(f"/api/v1/jobs/{job_id}/cancel", headers=world.tenant.headers)
    world.api.post(f"/api/v1/jobs/{job_id}/resume", headers=world.tenant.headers)
    run_to_end(world.db, job_id)
    totals = job_view(world, job_id)["totals"]
    assert (totals["scanned"], totals["created"]) == (33, 33)  # predictions whole, nothing counted twice
