"""The one-process default: the embedded worker inside `interlink serve`."""

from __future__ import annotations

from fastapi.testclient import TestClient

import tests.support.inbox_probe  # noqa: F401
from interlink.app import create_app
from interlink.config import Settings
from interlink.db import Database
from tests.fixtures.factories import Tenant, accept_probes, probe_event
from tests.inbox.test_inbox import processed_counts
from tests.support.waiting import wait_for


def test_events_accepted_while_the_server_was_down_are_processed_when_it_starts(
    settings: Settings, db: Database, tenant: Tenant
) -> None:
    ids = accept_probes(db, tenant.workspace.id, *(probe_event() for _ in range(5))).event_ids
    assert processed_counts(db) == {}  # nothing runs them: no worker in this process yet

    with TestClient(create_app(settings, database=db, embedded_worker=True)):
        wait_for(lambda: processed_counts(db) == dict.fromkeys(ids, 1), what="the startup sweep to drain the inbox")
        later = accept_probes(db, tenant.workspace.id, probe_event()).event_ids
        wait_for(lambda: processed_counts(db).get(later[0]) == 1, what="an event accepted while running")
    assert processed_counts(db) == dict.fromkeys(ids + later, 1)


def test_a_failed_task_does_not_stop_the_worker(settings: Settings, db: Database, tenant: Tenant) -> None:
    app = create_app(settings, database=db, embedded_worker=True)
    with TestClient(app):
        worker = app.state.embedded_worker
        accept_probes(db, tenant.workspace.id, probe_event(fail=True))
        good = accept_probes(db, tenant.workspace.id, probe_event()).event_ids
        wait_for(lambda: processed_counts(db).get(good[0]) == 1, what="the good event")
        assert worker.alive
