"""Real Celery workers on Redis: nothing accepted is lost, nothing is processed twice."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from sqlalchemy import select

import tests.support.inbox_probe  # noqa: F401
from interlink.config import Settings
from interlink.db import Database
from interlink.models import InboundEvent, LedgerEntry
from interlink.worker.celery_app import QUEUE, CeleryDispatcher, create_celery_app
from tests.fixtures.celery import WorkerProcess
from tests.fixtures.database import make_settings
from tests.fixtures.factories import Tenant, accept_probes, probe_event
from tests.inbox.test_inbox import processed_counts, statuses
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.redis, pytest.mark.celery]


def web_process_database(settings: Settings, broker: str, tmp_path: Path) -> Database:
    """The database as a web process in broker mode sees it: jobs go to Celery after commit."""
    web_settings = make_settings(settings.database_url, tmp_path, broker_url=broker)
    return Database(web_settings, dispatcher=CeleryDispatcher(create_celery_app(web_settings)))


def test_events_accepted_while_no_worker_runs_are_processed_once_one_starts(
    settings: Settings,
    db: Database,
    tenant: Tenant,
    broker_url: str,
    start_worker: Callable[..., WorkerProcess],
    tmp_path: Path,
) -> None:
    web = web_process_database(settings, broker_url, tmp_path)
    ids = accept_probes(web, tenant.workspace.id, *(probe_event() for _ in range(30))).event_ids
    web.dispose()
    assert redis.Redis.from_url(broker_url).llen(QUEUE) == 1  # the drain waits in the broker
    time.sleep(0.5)
    assert processed_counts(db) == {}

    worker = start_worker()
    wait_for(lambda: processed_counts(db) == dict.fromkeys(ids, 1), timeout=60, what=f"worker\n{worker.log()}")
    assert set(statuses(db).values()) == {"done"}


def test_an_event_whose_worker_dies_mid_task_is_recovered_by_the_sweeper(
    settings: Settings,
    db: Database,
    tenant: Tenant,
    broker_url: str,
    start_worker: Callable[..., WorkerProcess],
    tmp_path: Path,
) -> None:
    web = web_process_database(settings, broker_url, tmp_path)
    (event_id,) = accept_probes(web, tenant.workspace.id, probe_event(hold_seconds=60)).event_ids
    web.dispose()

    doomed = start_worker()
    wait_for(lambda: statuses(db).get(event_id) == "processing", timeout=60, what=f"the claim\n{doomed.log()}")
    doomed.kill()
    time.sleep(1)
    assert statuses(db)[event_id] == "processing"
    assert processed_counts(db) == {}

    rescuer = start_worker(beat=True)  # beat runs the sweeper every second; the lease is 4 s
    wait_for(lambda: processed_counts(db) == {event_id: 1}, timeout=90, what=f"the rescue\n{rescuer.log()}")
    with db.transaction() as session:
        event = session.get(InboundEvent, event_id)
        assert event is not None
        assert event.status == "done"
        assert event.attempts == 2
        entry = session.scalars(select(LedgerEntry)).one()
        assert entry.details["attempt"] == 2
    time.sleep(2)  # a few more sweeps: still exactly once
    assert processed_counts(db) == {event_id: 1}


def test_a_broker_outage_while_accepting_loses_nothing(
    settings: Settings,
    db: Database,
    tenant: Tenant,
    broker_url: str,
    start_worker: Callable[..., WorkerProcess],
    tmp_path: Path,
) -> None:
    web = web_process_database(settings, "redis://127.0.0.1:1/0", tmp_path)  # nobody listens there
    ids = accept_probes(web, tenant.workspace.id, probe_event(), probe_event()).event_ids  # must not raise
    web.dispose()
    assert statuses(db) == dict.fromkeys(ids, "pending")

    worker = start_worker(beat=True)
    wait_for(lambda: processed_counts(db) == dict.fromkeys(ids, 1), timeout=60, what=f"the sweep\n{worker.log()}")
