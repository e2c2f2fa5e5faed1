"""Polling reconciliation: what webhooks miss.

Accelo sends no webhook for affiliations (a contact's email and phone), profile values, status history or
deletions; HubSpot's webhooks can be lost in an outage. Each poll reads Accelo's change feeds and HubSpot's
``lastmodifieddate`` sweep since the workspace's cursors and turns every change into an inbox event, the same
path a webhook takes (so the engine's batching, locking and echo suppression apply). The cursors move in the
same transaction as the events are stored: a crash between the two can neither lose a change nor skip one.

Deletions are found by reconciliation: each poll checks a slice of the linked ids on both sides (rotating
through all of them) and queues an event for any that no longer resolve; the engine's re-read closes the link.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from interlink.connections.registry import connectors_for
from interlink.connections.repository import ConnectionRepo
from interlink.connectors.accelo.client import AcceloClient
from interlink.connectors.accelo.feeds import FeedCursor
from interlink.connectors.hubspot.client import HubSpotClient
from interlink.connectors.hubspot.schemas import modified_date_property
from interlink.db import Database
from interlink.inbox.service import NewEvent, accept_events
from interlink.kit.time import to_epoch_millis, utc_now
from interlink.models import Connection, Link, SyncCursor
from interlink.worker import enqueue_job, periodic, task

log = logging.getLogger(__name__)

POLL_TASK = "sync.poll_workspace"
HUBSPOT_OVERLAP = timedelta(seconds=30)  # HubSpot's search index trails writes by a little
DELETION_SCAN_SLICE = 500
MAX_RECORDS_PER_FEED = 5000
ObjectType = Literal["company", "contact"]
PLURAL = {"company": "companies", "contact": "contacts"}


@dataclass
class PollResult:
    events: dict[str, int] = field(default_factory=dict)  # per feed
    deleted: int = 0

    @property
    def total(self) -> int:
        return sum(self.events.values())


def _event(source: str, object_type: str, record_id: str, stamp: str, kind: str = "poll.update") -> NewEvent:
    return NewEvent(
        kind=kind,
        dedupe_key=f"{kind}:{object_type}:{record_id}:{stamp}",
        payload={"id": record_id, "polled": True},
        object_type=object_type,
        object_id=record_id,
        coalescible=True,
    )


class _Cursors:
    def __init__(self, session: Session, workspace_id: uuid.UUID) -> None:
        self.session = session
        self.workspace_id = workspace_id
        rows = session.scalars(select(SyncCursor).where(SyncCursor.workspace_id == workspace_id)).all()
        self.rows = {row.name: row for row in rows}
        self.values = {name: row.value for name, row in self.rows.items()}

    def save(self, values: dict[str, str]) -> None:
        for name, value in values.items():
            row = self.rows.get(name)
            if row is None:
                self.session.add(SyncCursor(workspace_id=self.workspace_id, name=name, value=value))
            else:
                row.value = value
        self.session.flush()


def poll_workspace(db: Database, workspace_id: uuid.UUID) -> PollResult:
    connectors = connectors_for(db)
    with db.transaction() as session:
        repository = ConnectionRepo(session, workspace_id)
        hubspot_connection, accelo_connection = repository.get_by_system("hubspot"), repository.get_by_system("accelo")
        cursors = _Cursors(session, workspace_id).values
        session.expunge_all()
    if hubspot_connection is None or accelo_connection is None:
        return PollResult()
    result = PollResult()
    hubspot_events: list[NewEvent] = []
    accelo_events: list[NewEvent] = []
    new_cursors: dict[str, str] = {}
    accelo = connectors.accelo(accelo_connection)
    hubspot = connectors.hubspot(hubspot_connection)
    _poll_accelo(accelo, cursors, accelo_events, new_cursors, result)
    _poll_hubspot(hubspot, cursors, hubspot_events, new_cursors, result)
    deletions = _scan_for_deletions(db, workspace_id, hubspot, accelo, cursors, new_cursors)
    hubspot_events += deletions["hubspot"]
    accelo_events += deletions["accelo"]
    result.deleted = len(deletions["hubspot"]) + len(deletions["accelo"])
    with db.transaction() as session:
        if hubspot_events:
            accept_events(session, workspace_id, "hubspot", hubspot_events)
        if accelo_events:
            accept_events(session, workspace_id, "accelo", accelo_events)
        _Cursors(session, workspace_id).save(new_cursors)
    return result


def _start(cursors: dict[str, str], name: str) -> FeedCursor:
    if name in cursors:
        return FeedCursor.from_json(cursors[name])
    # The first poll starts now: history is what bulk jobs are for.
    return FeedCursor.starting_at(utc_now() - timedelta(minutes=1))


def _poll_accelo(
    client: AcceloClient,
    cursors: dict[str, str],
    events: list[NewEvent],
    new_cursors: dict[str, str],
    result: PollResult,
) -> None:
    feeds: list[tuple[str, Any, Any]] = [
        ("accelo:companies", client.feeds.companies(), lambda r: [("company", r.id, r.date_modified)]),
        ("accelo:contacts", client.feeds.contacts(), lambda r: [("contact", r.id, r.date_modified)]),
        (
            "accelo:affiliations",
            client.feeds.affiliations(),
            lambda r: [("contact", r.contact_id, r.date_modified)] if r.contact_id else [],
        ),
        (
            "accelo:company_values",
            client.feeds.profile_values("company"),
            lambda r: [("company", r.link_id, r.date_modified)],
        ),
        (
            "accelo:contact_values",
            client.feeds.profile_values("contact"),
            lambda r: [("contact", r.link_id, r.date_modified)],
        ),
        (
            "accelo:status_history",
            client.feeds.status_history(),
            lambda r: [(r.against_type, r.against_id, r.date_modified)] if r.against_type in PLURAL else [],
        ),
    ]
    for name, feed, touched in feeds:
        batch = feed.poll(_start(cursors, name), max_records=MAX_RECORDS_PER_FEED)
        count = 0
        for record in batch.records:
            for object_type, record_id, modified in touched(record):
                if record_id is None:
                    continue
                stamp = str(int(modified.timestamp())) if modified else "none"
                events.append(_event("accelo", object_type, str(record_id), f"{name}:{stamp}"))
                count += 1
        result.events[name] = count
        new_cursors[name] = batch.cursor.to_json()


def _poll_hubspot(
    client: HubSpotClient,
    cursors: dict[str, str],
    events: list[NewEvent],
    new_cursors: dict[str, str],
    result: PollResult,
) -> None:
    now = utc_now()
    for object_type, plural in PLURAL.items():
        name = f"hubspot:{plural}"
        since = int(cursors[name]) if name in cursors else to_epoch_millis(now - timedelta(minutes=1))
        newest = since
        count = 0
        modified_property = modified_date_property(plural)
        for record in client.objects(plural).modified_since(since, properties=[modified_property]):
            stamp = record.properties.get(modified_property) or record.updated_at.isoformat()
            events.append(_event("hubspot", object_type, record.id, f"{name}:{stamp}"))
            newest = max(newest, to_epoch_millis(record.updated_at))
            count += 1
        result.events[name] = count
        # Overlap: a change indexed late, with an older timestamp than one already seen, is read again.
        new_cursors[name] = str(max(since, newest - int(HUBSPOT_OVERLAP.total_seconds() * 1000)))


def _scan_for_deletions(
    db: Database,
    workspace_id: uuid.UUID,
    hubspot: HubSpotClient,
    accelo: AcceloClient,
    cursors: dict[str, str],
    new_cursors: dict[str, str],
) -> dict[str, list[NewEvent]]:
    found: dict[str, list[NewEvent]] = {"hubspot": [], "accelo": []}
    for object_type in ("company", "contact"):
        name = f"deletion_scan:{object_type}"
        after = cursors.get(name)
        with db.transaction() as session:
            statement = select(Link.id, Link.hubspot_id, Link.accelo_id).where(
                Link.workspace_id == workspace_id, Link.object_type == object_type, Link.state != "closed"
            )
            if after:
                statement = statement.where(Link.id > uuid.UUID(after))
            rows = session.execute(statement.order_by(Link.id).limit(DELETION_SCAN_SLICE)).all()
        if not rows:
            new_cursors[name] = ""  # wrap around
            continue
        new_cursors[name] = str(rows[-1][0])
        accelo_ids = [int(row[2]) for row in rows if row[2] and str(row[2]).isdigit()]
        for missing in sorted(accelo.find_missing(object_type, accelo_ids)) if accelo_ids else []:
            found["accelo"].append(_event("accelo", object_type, str(missing), "missing", kind="poll.missing"))
        hubspot_ids = [str(row[1]) for row in rows if row[1]]
        if hubspot_ids:
            read = hubspot.objects(PLURAL[object_type]).batch_read(hubspot_ids, properties=["hs_object_id"])
            for missing_id in read.missing:
                found["hubspot"].append(_event("hubspot", object_type, missing_id, "missing", kind="poll.missing"))
    return found


# -- tasks -------------------------------------------------------------------------------------------------


def workspaces_to_poll(session: Session) -> list[uuid.UUID]:
    statement = select(Connection.workspace_id).where(Connection.system.in_(["hubspot", "accelo"]))
    counts: dict[uuid.UUID, int] = {}
    for workspace_id in session.scalars(statement):
        counts[workspace_id] = counts.get(workspace_id, 0) + 1
    return [workspace_id for workspace_id, count in counts.items() if count == 2]


@task(POLL_TASK, expires_seconds=600)
def poll_workspace_task(db: Database, *, workspace_id: str) -> None:
    result = poll_workspace(db, uuid.UUID(workspace_id))
    if result.total or result.deleted:
        log.info("poll of %s: %d change(s), %d missing record(s)", workspace_id, result.total, result.deleted)


@task("sync.poll", expires_seconds=300)
def poll_all(db: Database) -> None:
    with db.transaction() as session:
        for workspace_id in workspaces_to_poll(session):
            enqueue_job(session, POLL_TASK, workspace_id=str(workspace_id))


periodic("sync.poll", lambda settings: settings.poll_interval_seconds)
