"""SQL for jobs: a workspace's jobs (the API's view), claims and leases (the workers' view), and a running
job's match index."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import CursorResult, Select, delete, insert, select, update
from sqlalchemy.orm import Session

from interlink.kit.repository import Repository, WorkspaceRepository
from interlink.models.job import Job, JobMatchKey

ACTIVE = ("queued", "running")
PLANNED = "planned"


class JobRepo(WorkspaceRepository[Job]):
    model = Job

    def active(self) -> Job | None:
        statement = self.base_statement().where(Job.status.in_(ACTIVE)).order_by(Job.created_at).limit(1)
        return self.session.scalars(statement).first()

    def list_statement(
        self, *, status: str | None = None, before: tuple[datetime, uuid.UUID] | None = None, limit: int = 50
    ) -> Select[Job]:
        """Newest first; ``before`` is the (created_at, id) of the last job of the previous page."""
        statement = self.base_statement()
        if status:
            statement = statement.where(Job.status == status)
        if before is not None:
            created_at, job_id = before
            statement = statement.where(
                (Job.created_at < created_at) | ((Job.created_at == created_at) & (Job.id < job_id))
            )
        return statement.order_by(Job.created_at.desc(), Job.id.desc()).limit(limit)


class JobLeases(Repository[Job]):
    """Jobs across workspaces, as workers and the sweeper see them."""

    model = Job

    def lock(self, job_id: uuid.UUID) -> Job | None:
        """The job's row, locked until the transaction ends (PostgreSQL; SQLite transactions serialise)."""
        return self.session.scalars(select(Job).where(Job.id == job_id).with_for_update()).one_or_none()

    def renew(self, job_id: uuid.UUID, token: uuid.UUID, now: datetime, until: datetime) -> bool:
        """Extend a held lease; False if the claim is no longer ``token``'s."""
        result = self.session.execute(
            update(Job)
            .where(Job.id == job_id, Job.claim_token == token)
            .values(heartbeat_at=now, lease_expires_at=until)
            .execution_options(synchronize_session=False)
        )
        return isinstance(result, CursorResult) and result.rowcount == 1

    def due(self, now: datetime, limit: int = 100) -> Sequence[Job]:
        """Active jobs whose lease lapsed (their worker died) or that are waiting for a worker past their time."""
        statement = (
            select(Job)
            .where(Job.status.in_(ACTIVE), (Job.lease_expires_at.is_(None)) | (Job.lease_expires_at < now))
            .order_by(Job.created_at)
            .limit(limit)
        )
        return self.session.scalars(statement).all()


class MatchIndex:
    """One running job's match index for one object type (rows of ``job_match_keys``)."""

    def __init__(self, session: Session, job_id: uuid.UUID, object_type: str) -> None:
        self.session = session
        self.job_id = job_id
        self.object_type = object_type

    def add(self, rows: Iterable[tuple[str, str, str, str | None]]) -> int:
        """Add ``(kind, key, record_id, source_id)`` rows."""
        values = [
            {
                "job_id": self.job_id,
                "object_type": self.object_type,
                "kind": kind,
                "key": key,
                "record_id": record_id,
                "source_id": source_id,
            }
            for kind, key, record_id, source_id in rows
        ]
        if values:
            self.session.execute(insert(JobMatchKey), values)
        return len(values)

    def lookup(self, keys: Iterable[str]) -> dict[str, list[str]]:
        """Record ids by key (match keys only), each list in ascending id order, without repeats."""
        wanted = sorted(set(keys))
        found: defaultdict[str, set[str]] = defaultdict(set)
        for start in range(0, len(wanted), 500):
            statement = select(JobMatchKey.key, JobMatchKey.record_id).where(
                JobMatchKey.job_id == self.job_id,
                JobMatchKey.object_type == self.object_type,
                JobMatchKey.kind != PLANNED,
                JobMatchKey.key.in_(wanted[start : start + 500]),
            )
            for key, record_id in self.session.execute(statement):
                found[key].add(record_id)
        return {key: sorted(ids, key=_id_order) for key, ids in found.items()}

    def planned_owners(self, record_ids: Iterable[str]) -> dict[str, str]:
        """In a dry run: which source record each of these target records would be linked to."""
        wanted = sorted(set(record_ids))
        if not wanted:
            return {}
        statement = select(JobMatchKey.record_id, JobMatchKey.source_id).where(
            JobMatchKey.job_id == self.job_id,
            JobMatchKey.object_type == self.object_type,
            JobMatchKey.kind == PLANNED,
            JobMatchKey.record_id.in_(wanted),
        )
        return {record_id: source_id for record_id, source_id in self.session.execute(statement) if source_id}

    def planned_twins(self, keys: Iterable[str]) -> dict[str, str]:
        """In a dry run: the twin each source record (by its planned key) would have, by that key."""
        wanted = sorted(set(keys))
        if not wanted:
            return {}
        statement = select(JobMatchKey.key, JobMatchKey.record_id).where(
            JobMatchKey.job_id == self.job_id,
            JobMatchKey.object_type == self.object_type,
            JobMatchKey.kind == PLANNED,
            JobMatchKey.key.in_(wanted),
        )
        return {key: record_id for key, record_id in self.session.execute(statement)}

    @staticmethod
    def clear(session: Session, job_id: uuid.UUID) -> None:
        session.execute(delete(JobMatchKey).where(JobMatchKey.job_id == job_id))


def _id_order(record_id: str) -> tuple[int, int, str]:
    return (0, int(record_id), "") if record_id.isdigit() else (1, 0, record_id)
