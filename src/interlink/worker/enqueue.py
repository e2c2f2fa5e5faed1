"""Enqueue after commit: jobs ride on the session and leave only when its transaction commits.

``enqueue_job(session, "inbox.drain", workspace_id=...)`` appends to the session; the Database's
``after_commit`` hook hands the jobs to the process's dispatcher, and a rollback drops them. A dispatcher
that cannot reach its broker logs and moves on: the inbox sweeper re-enqueues whatever is left pending.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

_SESSION_KEY = "interlink.pending_jobs"


@dataclass(frozen=True)
class JobRequest:
    name: str
    kwargs: dict[str, Any] = field(default_factory=dict)


class JobDispatcher(Protocol):
    def dispatch(self, jobs: list[JobRequest]) -> None: ...


class DropDispatcher:
    """For processes with no worker (CLI commands): the inbox sweeper of a running worker catches up."""

    def dispatch(self, jobs: list[JobRequest]) -> None:
        if jobs:
            log.debug("no worker in this process; %d job(s) left for the sweeper", len(jobs))


class RecordingDispatcher:
    """Keeps dispatched jobs in a list; tests run them by hand."""

    def __init__(self) -> None:
        self.jobs: list[JobRequest] = []

    def dispatch(self, jobs: list[JobRequest]) -> None:
        self.jobs.extend(jobs)

    def take(self) -> list[JobRequest]:
        jobs, self.jobs = self.jobs, []
        return jobs


def enqueue_job(session: Session, name: str, **kwargs: Any) -> None:
    """Queue a job to be sent once ``session``'s transaction commits (and dropped if it rolls back)."""
    pending: list[JobRequest] = session.info.setdefault(_SESSION_KEY, [])
    request = JobRequest(name, kwargs)
    if request not in pending:  # one drain per workspace per transaction is enough
        pending.append(request)


def take_pending_jobs(session: Session) -> list[JobRequest]:
    jobs: list[JobRequest] = session.info.pop(_SESSION_KEY, [])
    return jobs


def discard_pending_jobs(session: Session) -> None:
    session.info.pop(_SESSION_KEY, None)
