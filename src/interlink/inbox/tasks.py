from __future__ import annotations

import uuid

from interlink.db import Database
from interlink.inbox import service
from interlink.worker import periodic, task


@task(service.DRAIN_TASK, expires_seconds=3600)
def drain(db: Database, *, workspace_id: str) -> None:
    service.drain_workspace(db, uuid.UUID(workspace_id))


@task("inbox.sweep", expires_seconds=300)
def sweep(db: Database) -> None:
    service.sweep(db)


periodic("inbox.sweep", lambda settings: settings.inbox_sweep_interval_seconds)
