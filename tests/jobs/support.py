"""Helpers for bulk-job tests: seeding HubSpot with companies and their contacts fast (no webhooks), sync
rules that create everything, and running a job's slices to the end in the test's thread."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from interlink.db import Database
from interlink.jobs.runner import Observer, SliceResult, run_slice
from interlink.models import Link
from interlink.models.job import Job
from interlink.simulators.accelo.simulator import AcceloSimulator
from interlink.simulators.hubspot.crm import Source
from interlink.simulators.hubspot.simulator import HubSpotSimulator
from interlink.sync.handler import BulkGateway
from tests.fixtures.world import World

PRIMARY_AND_PLAIN = {1, 279}


@dataclass
class Seeded:
    companies: list[str]
    contacts: list[str]
    company_of: dict[str, str]


def seed_hubspot(sim: HubSpotSimulator, *, companies: int, contacts_per_company: int, start: int = 0) -> Seeded:
    """Companies with a domain and a name, each with contacts (emails unique) whose primary company it is."""
    company_ids = sim.seed(
        "companies",
        [{"name": f"Company {start + n}", "domain": f"company{start + n}.example"} for n in range(companies)],
    )
    rows, owners = [], []
    for index, company in enumerate(company_ids):
        for person in range(contacts_per_company):
            number = f"{start + index}-{person}"
            rows.append(
                {
                    "email": f"person{number}@company{start + index}.example",
                    "firstname": f"First{number}",
                    "lastname": f"Last{number}",
                    "lifecyclestage": "customer",
                }
            )
            owners.append(company)
    contact_ids = sim.seed("contacts", rows) if rows else []
    with sim.lock:
        for contact, company in zip(contact_ids, owners, strict=True):
            sim.crm.associate("contacts", int(contact), "companies", int(company), PRIMARY_AND_PLAIN, Source.imported())
    return Seeded(company_ids, contact_ids, dict(zip(contact_ids, owners, strict=True)))


def set_rule(world: World, object_type: str, direction: str, condition: dict[str, Any]) -> None:
    response = world.api.post(
        "/api/v1/sync-rules",
        json={"object_type": object_type, "direction": direction, "condition": condition},
        headers=world.tenant.headers,
    )
    assert response.status_code == 201, response.text


def create_everything(world: World, direction: str = "pull") -> None:
    """Rules that let every company with a name and every contact with an email be created."""
    set_rule(world, "company", direction, {"field": "name", "op": "is_set"})
    set_rule(world, "contact", direction, {"field": "email" if direction == "pull" else "surname", "op": "is_set"})


def start_job(world: World, **body: Any) -> uuid.UUID:
    response = world.api.post("/api/v1/jobs", json=body, headers=world.tenant.headers)
    assert response.status_code == 202, response.text
    return uuid.UUID(response.json()["id"])


def job_view(world: World, job_id: uuid.UUID) -> dict[str, Any]:
    response = world.api.get(f"/api/v1/jobs/{job_id}", headers=world.tenant.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def run_to_end(
    db: Database,
    job_id: uuid.UUID,
    *,
    bulk: BulkGateway | None = None,
    observe: Observer | None = None,
    max_slices: int = 500,
) -> list[SliceResult]:
    """Run slices in this thread until the job is finished (what the workers do, one slice after another)."""
    results = []
    for _ in range(max_slices):
        result = run_slice(db, job_id, bulk=bulk, observe=observe)
        results.append(result)
        if result.status in {"completed", "cancelled", "failed"}:
            return results
        assert result.status == "more", f"unexpected slice: {result}"
    raise AssertionError(f"job {job_id} did not finish in {max_slices} slices")


def job_row(db: Database, job_id: uuid.UUID) -> Job:
    with db.transaction() as session:
        job = session.get(Job, job_id)
        assert job is not None
        session.expunge(job)
        return job


def open_links(db: Database, object_type: str) -> list[Link]:
    with db.transaction() as session:
        return list(session.scalars(select(Link).where(Link.object_type == object_type, Link.state != "closed")))


def accelo_emails(accelo: AcceloSimulator) -> Counter[str]:
    """How many Accelo affiliations carry each email (a duplicate shows as a count above one)."""
    return Counter(str(row["email"]).lower() for row in accelo.state.affiliations.rows.values() if row.get("email"))


def accelo_company_names(accelo: AcceloSimulator) -> Counter[str]:
    return Counter(str(row["name"]) for row in accelo.state.companies.rows.values())
