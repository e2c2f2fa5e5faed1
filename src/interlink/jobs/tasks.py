from __future__ import annotations

import uuid

from interlink.db import Database
from interlink.jobs import runner
from interlink.worker import periodic, task


@task(runner.RUN_TASK, expires_seconds=3600)
def run(db: Database, *, job_id: str) -> None:
    """One slice of a job; it queues the next one itself."""
    runner.run_slice(db, uuid.UUID(job_id))


@task("jobs.sweep", expires_seconds=300)
def sweep(db: Database) -> None:
    runner.sweep(db)


periodic("jobs.sweep", lambda settings: settings.job_sweep_interval_seconds)
