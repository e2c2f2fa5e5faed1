"""Keeping each connection's cached schemas fresh in the background.

Saving a mapping or a rule, and every reconcile, reads HubSpot's and Accelo's field lists from the cache
(``schema_source``). Beat re-reads the cached lists before they expire, so those paths seldom wait for a
vendor, and a property, option or status added in HubSpot or Accelo shows up without anyone asking for
``?refresh=true``. Only schemas someone has used are cached, so an idle workspace costs nothing.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from interlink.connections.registry import connectors_for
from interlink.connectors.errors import ConnectorError
from interlink.db import Database
from interlink.kit.time import utc_now
from interlink.mappings.fields import ObjectType, System
from interlink.mappings.live import LiveSchemaSource
from interlink.mappings.repository import SchemaSnapshotRepo, workspaces_with_schemas_fetched_before
from interlink.mappings.schema_source import store_schema
from interlink.models import Workspace
from interlink.worker import enqueue_job, periodic, task

log = logging.getLogger(__name__)

REFRESH_TASK = "mappings.refresh_schemas"
REFRESH_WORKSPACE_TASK = "mappings.refresh_workspace_schemas"
# Every 5 minutes, re-read the lists older than 10: a used schema is never older than the cache's 15 minutes.
REFRESH_INTERVAL = timedelta(minutes=5)
REFRESH_AGE = timedelta(minutes=10)


def refresh_workspace_schemas(db: Database, workspace_id: uuid.UUID, *, older_than: timedelta = REFRESH_AGE) -> int:
    """Re-read from the vendors every cached schema of the workspace older than ``older_than``; returns how
    many were refreshed. Vendor calls happen outside any transaction (a call may renew a token, which writes).
    A vendor that cannot be reached, or a system no longer connected, keeps its last list."""
    with db.reading() as session:
        workspace = session.get(Workspace, workspace_id)
        if workspace is None:
            return 0
        stale: list[tuple[System, ObjectType]] = [
            ("hubspot" if snapshot.system == "hubspot" else "accelo", ObjectType(snapshot.object_type))
            for snapshot in SchemaSnapshotRepo(session, workspace_id).fetched_before(utc_now() - older_than)
        ]
        source = LiveSchemaSource.for_workspace(session, workspace, connectors_for(db)) if stale else None
    refreshed = 0
    for system, object_type in stale:
        if source is None or not source.connected(system):
            continue
        try:
            fields = source.fetch(system, object_type)
        except ConnectorError as exc:
            log.warning("could not refresh the %s %s schema of %s: %s", system, object_type, workspace_id, exc)
            continue
        with db.transaction() as session:
            store_schema(session, workspace_id, system, object_type, fields)
        refreshed += 1
    return refreshed


@task(REFRESH_WORKSPACE_TASK, expires_seconds=REFRESH_INTERVAL.total_seconds())
def refresh_workspace_schemas_task(db: Database, *, workspace_id: str) -> None:
    refresh_workspace_schemas(db, uuid.UUID(workspace_id))


@task(REFRESH_TASK, expires_seconds=REFRESH_INTERVAL.total_seconds())
def refresh_all(db: Database) -> None:
    """One job per workspace with a schema due, so one slow or failing vendor account delays no other."""
    with db.transaction() as session:
        for workspace_id in workspaces_with_schemas_fetched_before(session, utc_now() - REFRESH_AGE):
            enqueue_job(session, REFRESH_WORKSPACE_TASK, workspace_id=str(workspace_id))


periodic(REFRESH_TASK, lambda _settings: REFRESH_INTERVAL.total_seconds())
