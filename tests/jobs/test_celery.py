"""Bulk jobs on real Celery workers (``interlink worker`` subprocesses on Redis) against the simulators over
loopback HTTP: a pull whose worker is killed three times ends with every record once, and a change made in
HubSpot while a job runs is synced within seconds by the same one-process worker."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from interlink.app import create_app
from interlink.config import Settings
from interlink.db import Database
from interlink.kit.asgi import in_process_client
from interlink.simulators import accelo as accelo_simulator
from interlink.simulators import hubspot as hubspot_simulator
from interlink.simulators.accelo.simulator import DEFAULT_ACCESS_TOKEN, DEFAULT_WEBHOOK_SECRET, AcceloSimulator
from interlink.simulators.hubspot.oauth import DEFAULT_APP_ID, DEFAULT_CLIENT_SECRET, DEFAULT_PRIVATE_APP_TOKEN
from interlink.simulators.hubspot.simulator import HubSpotSimulator
from interlink.worker.celery_app import CeleryDispatcher, create_celery_app
from tests.fixtures.celery import REPO_ROOT, WorkerProcess, worker_environment
from tests.fixtures.database import make_settings
from tests.fixtures.factories import Tenant, create_tenant
from tests.jobs.support import accelo_company_names, accelo_emails, job_row, seed_hubspot
from tests.support.servers import serve_over_loopback
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.redis, pytest.mark.celery]

WORKER_ENV = {
    "INTERLINK_JOB_LEASE_SECONDS": "2",
    "INTERLINK_JOB_SWEEP_INTERVAL_SECONDS": "0.5",
    "INTERLINK_JOB_SLICE_SECONDS": "1",
    "INTERLINK_JOB_BATCH_SECONDS": "0.5",
    "INTERLINK_POLL_INTERVAL_SECONDS": "3600",
    "INTERLINK_TEST_ACCELO_BUDGET": json.dumps({"requests_per_window": 50_000, "window_seconds": 60}),
}


@dataclass
class LoopbackWorld:
    """Interlink's web side in this process (jobs and drains go to Celery), the simulators over loopback."""

    web: Database
    app: FastAPI
    api: TestClient
    tenant: Tenant
    hubspot: HubSpotSimulator
    accelo: AcceloSimulator

    def start_job(self, **body: object) -> uuid.UUID:
        response = self.api.post("/api/v1/jobs", json=body, headers=self.tenant.headers)
        assert response.status_code == 202, response.text
        return uuid.UUID(response.json()["id"])

    def job(self, job_id: uuid.UUID) -> dict[str, object]:
        body: dict[str, object] = self.api.get(f"/api/v1/jobs/{job_id}", headers=self.tenant.headers).json()
        return body

    def scanned(self, job_id: uuid.UUID) -> int:
        totals = self.job(job_id)["totals"]
        assert isinstance(totals, dict)
        return int(totals["scanned"])


@pytest.fixture
def loopback(settings: Settings, broker_url: str, tmp_path: Path) -> Iterator[LoopbackWorld]:
    web_settings = make_settings(settings.database_url, tmp_path, broker_url=broker_url)
    web = Database(web_settings, dispatcher=CeleryDispatcher(create_celery_app(web_settings)))
    app = create_app(web_settings, database=web, embedded_worker=False)
    interlink = in_process_client(app, base_url=web_settings.public_base_url)
    tenant = create_tenant(web, "Loopback")

    def deliver(_url: str) -> httpx.Client:
        return interlink

    hubspot_app = hubspot_simulator.create_app(
        webhook_urls=[f"{web_settings.public_base_url}/webhooks/hubspot"], webhook_client_for=deliver
    )
    accelo_app = accelo_simulator.create_app(
        webhook_urls=[f"{web_settings.public_base_url}/webhooks/accelo/{tenant.workspace.slug}"],
        webhook_client_for=deliver,
    )
    accelo_app.simulator.rate_limit.configure(limit=50_000, window_seconds=60)
    with (
        serve_over_loopback(hubspot_app) as hubspot_url,
        serve_over_loopback(accelo_app) as accelo_url,
        TestClient(app) as api,
    ):
        simulator: HubSpotSimulator = hubspot_app.state.simulator
        for system, body in (
            (
                "hubspot",
                {
                    "system": "hubspot",
                    "portal_id": simulator.portal_id,
                    "access_token": DEFAULT_PRIVATE_APP_TOKEN,
                    "client_secret": DEFAULT_CLIENT_SECRET,
                    "app_id": DEFAULT_APP_ID,
                    "base_url": hubspot_url,
                },
            ),
            (
                "accelo",
                {
                    "system": "accelo",
                    "deployment": f"loop{uuid.uuid4().hex[:8]}",
                    "client_id": "interlink-service@simulator.accelo.com",
                    "access_token": DEFAULT_ACCESS_TOKEN,
                    "access_token_expires_at": time.time() + 30 * 86400,
                    "webhook_secret": DEFAULT_WEBHOOK_SECRET,
                    "base_url": accelo_url,
                },
            ),
        ):
            response = api.put(f"/api/v1/connections/{system}", json=body, headers=tenant.headers)
            assert response.status_code == 200, response.text
        for object_type, field in (("company", "name"), ("contact", "email")):
            response = api.post(
                "/api/v1/sync-rules",
                json={"object_type": object_type, "direction": "pull", "condition": {"field": field, "op": "is_set"}},
                headers=tenant.headers,
            )
            assert response.status_code == 201, response.text
        yield LoopbackWorld(web, app, api, tenant, simulator, accelo_app.simulator)
    hubspot_app.state.simulator.close()
    accelo_app.close()
    interlink.close()
    web.dispose()


@pytest.fixture
def job_worker(settings: Settings, broker_url: str, tmp_path: Path) -> Iterator[Callable[[], WorkerProcess]]:
    """``interlink worker`` (with beat, so the sweeper runs) as a subprocess; its Accelo clients know the
    simulator's budget."""
    started: list[WorkerProcess] = []

    def start() -> WorkerProcess:
        index = len(started)
        log_path = tmp_path / f"job-worker-{index}.log"
        args = [
            sys.executable, "-m", "interlink", "worker",
            "--concurrency", "1", "--pool", "prefork", "--without-mingle", "--without-gossip",
            "--hostname", f"jobs{index}@%h", "--include", "tests.jobs.worker_budget",
            "--beat", "--schedule", str(tmp_path / f"beat-{index}"),
        ]  # fmt: skip
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                args,
                cwd=REPO_ROOT,
                env=worker_environment(settings, broker_url, tmp_path, **WORKER_ENV),
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        worker = WorkerProcess(process, log_path)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def test_a_pull_whose_worker_is_killed_three_times_ends_with_every_record_once(
    loopback: LoopbackWorld, job_worker: Callable[[], WorkerProcess], db: Database
) -> None:
    companies, per_company = 30, 30
    seed_hubspot(loopback.hubspot, companies=companies, contacts_per_company=per_company)
    total = companies * (1 + per_company)
    job_id = loopback.start_job(kind="pull", object_type="both")

    worker = job_worker()
    for kills, fraction in enumerate((0.25, 0.5, 0.75), start=1):
        # Killed while it holds the job, the worker leaves it to be taken over (a restart). A kill that lands
        # just as a slice has released the job leaves nothing to take over: then kill the next worker too.
        while job_row(db, job_id).restarts < kills:
            wait_for(
                lambda f=fraction: loopback.scanned(job_id) >= f * total and held(db, job_id),
                timeout=90,
                interval=0.01,
                what=f"{fraction:.0%} of the pull, held by a worker\n{worker.log()[-3000:]}",
            )
            worker.kill()
            scanned_at_kill = loopback.scanned(job_id)
            worker = job_worker()
            wait_for(
                lambda k=kills, n=scanned_at_kill: (
                    job_row(db, job_id).restarts >= k or loopback.scanned(job_id) > n  # taken over, or carried on
                ),
                timeout=90,
                what=f"a worker to carry on\n{worker.log()[-3000:]}",
            )
    wait_for(lambda: job_row(db, job_id).status == "completed", timeout=120, what=f"the pull\n{worker.log()[-3000:]}")

    eligible = {f"person{c}-{p}@company{c}.example" for c in range(companies) for p in range(per_company)}
    assert accelo_emails(loopback.accelo) == dict.fromkeys(eligible, 1)  # no duplicate, no record missed
    assert accelo_company_names(loopback.accelo) == {f"Company {c}": 1 for c in range(companies)}
    view = loopback.job(job_id)
    totals = view["totals"]
    assert isinstance(totals, dict)
    assert totals["scanned"] == total  # each record counted once, whoever processed it
    assert totals["linked"] == total
    assert totals["failed"] == 0
    assert view["restarts"] == 3  # each kill left the job to be taken over from its checkpoint


def held(db: Database, job_id: uuid.UUID) -> bool:
    """Does a worker hold the job (claimed, not yet released)?"""
    return job_row(db, job_id).claim_token is not None


def test_a_change_made_during_a_bulk_job_is_synced_within_seconds_by_a_one_process_celery_worker(
    loopback: LoopbackWorld, job_worker: Callable[[], WorkerProcess], db: Database
) -> None:
    seed_hubspot(loopback.hubspot, companies=1, contacts_per_company=1)
    worker = job_worker()
    first = loopback.start_job(kind="pull", object_type="both")
    wait_for(lambda: job_row(db, first).status == "completed", timeout=60, what=f"the first pull\n{worker.log()}")
    (contact,) = [c for c in loopback.hubspot.crm.live_ids["contacts"]]
    (accelo_contact,) = list(loopback.accelo.state.contacts.rows)

    seed_hubspot(loopback.hubspot, companies=4000, contacts_per_company=0, start=1)
    job_id = loopback.start_job(kind="pull", object_type="companies")
    wait_for(lambda: loopback.scanned(job_id) > 0, timeout=30, what=f"the job\n{worker.log()}")

    loopback.hubspot.update_as_user("contacts", contact, {"firstname": "Renamed"})
    wait_for(
        lambda: (loopback.accelo.record("contact", accelo_contact) or {}).get("firstname") == "Renamed",
        timeout=5.0,
        what=f"the live change to reach Accelo\n{worker.log()[-3000:]}",
    )
    assert job_row(db, job_id).status == "running"
    loopback.api.post(f"/api/v1/jobs/{job_id}/cancel", headers=loopback.tenant.headers)
    wait_for(lambda: job_row(db, job_id).status == "cancelled", timeout=30, what="the job to stop")
