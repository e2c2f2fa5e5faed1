"""The engine: one claimed batch of inbox events, from hints to both systems in step.

    touches (coalesced by record) -> merges re-point links -> per object type, companies first:
      lock the records -> batch-read both systems -> match the unlinked ones (under match-key locks) ->
      reconcile each (pure) -> apply the writes in batches -> links, snapshots, ledger and event outcomes
      in one transaction

A write that fails fails only its own record: its events go back to the queue with the error (and backoff),
and the snapshot is advanced only for the side that was written, so nothing is lost on the retry. Reads that
fail for everyone (a vendor down) send the whole batch back with ``RetryLater``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from interlink.connectors.errors import AuthenticationFailed, Conflict, ConnectorError, PermissionDenied
from interlink.db import Database
from interlink.inbox.service import DONE, ClaimedBatch, NewEvent, Outcome, RetryLater, accept_events, finish_events
from interlink.kit.time import ensure_utc, utc_now
from interlink.mappings.fields import ObjectType
from interlink.mappings.rules import fields_of
from interlink.mappings.schema_source import SchemaSource, warm_schemas
from interlink.metrics import SYNC_LATENCY
from interlink.models import Link, Workspace
from interlink.sync import ledger, locks
from interlink.sync.config import load_config
from interlink.sync.links import LinkRepo, state_of
from interlink.sync.matching import MatchKey, accelo_keys, hubspot_keys
from interlink.sync.merges import apply_merges
from interlink.sync.outcomes import RecordOutcome, categorise
from interlink.sync.plan import (
    GONE,
    AcceloRecord,
    Candidate,
    HubSpotRecord,
    HubSpotWrite,
    LedgerDraft,
    Plan,
    Side,
    SyncConfig,
    _Gone,
)
from interlink.sync.ports import AcceloPort, HubSpotPort, WriteResult
from interlink.sync.reconcile import Trigger, reconcile, rule_decision
from interlink.sync.touches import Touch, touches_from

log = logging.getLogger(__name__)

MATCH_PROPERTIES = ("email", "domain", "website", "name", "hs_merged_object_ids")
MATCH_FIELDS = ("affiliation.email", "email", "website", "name")
RESYNC_KIND = "interlink.resync"


@dataclass(frozen=True)
class Gateway:
    """A workspace's two vendors, as the engine sees them."""

    hubspot: HubSpotPort
    accelo: AcceloPort
    schema: SchemaSource


@dataclass(frozen=True)
class _Reading:
    """What to read of each system for one object type: mapped fields, the status, rule and match fields."""

    object_type: str
    properties: list[str]
    fields: list[str]

    @classmethod
    def of(cls, config: SyncConfig) -> _Reading:
        properties = {rule.hubspot_property for rule in config.fields} | {config.status_property}
        properties |= set(MATCH_PROPERTIES) | fields_of(config.pull_rule)
        fields = {rule.accelo_field for rule in config.fields} | set(MATCH_FIELDS) | fields_of(config.push_rule)
        return cls(config.object_type, sorted(properties), sorted(fields - {"status"}))


@dataclass
class _Item:
    """One record being reconciled in this batch."""

    touch: Touch
    link: Link | None = None
    hubspot: HubSpotRecord | _Gone | None = None
    accelo: AcceloRecord | _Gone | None = None
    candidates: list[Candidate] = field(default_factory=list)
    company_twin: str | None = None
    plan: Plan | None = None
    hubspot_result: WriteResult | None = None
    accelo_result: WriteResult | None = None
    errors: list[str] = field(default_factory=list)


class Matcher(Protocol):
    """Where twins of unlinked records are looked for: the live vendor search (default), or a bulk job's index."""

    def find(self, object_type: str, system: Side, key: MatchKey) -> list[str]:
        """Ids in ``system`` whose match key equals ``key``."""
        ...


@dataclass
class RunContext:
    """Who asked for a reconcile, and how: an inbox batch (the default) or a bulk job."""

    preloaded: Mapping[tuple[str, str], HubSpotRecord | AcceloRecord] = field(default_factory=dict)
    matcher: Matcher | None = None
    dry_run: bool = False
    job_id: uuid.UUID | None = None
    attempts: Callable[[Touch], int] = lambda _touch: 1
    max_attempts: int = 8
    # when the earliest event behind a touch arrived in the inbox (None for a job): the sync latency's start
    received_at: Callable[[Touch], datetime | None] = lambda _touch: None
    event_outcomes: dict[int, Outcome] = field(default_factory=dict)  # filled for the events' finishing
    retry_at: dict[int, datetime] = field(default_factory=dict)  # filled by the finishing: events due again
    # Called inside the transaction that saves links and the ledger, so a caller's own bookkeeping (event
    # outcomes, a job's counts and checkpoint) commits with them or not at all.
    on_persist: Callable[[Session, list[RecordOutcome]], None] | None = None


class Engine:
    def __init__(self, db: Database, gateway: Gateway, *, now: Callable[[], datetime] = utc_now) -> None:
        self.db = db
        self.gateway = gateway
        self.now = now

    # -- the batch ------------------------------------------------------------------------------------------

    def process(self, batch: ClaimedBatch) -> None:
        source: Side = "hubspot" if batch.source == "hubspot" else "accelo"
        touches = touches_from(source, batch.events)
        with self.db.transaction() as session:
            workspace = session.get(Workspace, batch.workspace_id)
            if workspace is None:  # pragma: no cover - cascades delete its events
                return
            apply_merges(session, workspace.id, touches.merges)
            finish_events(session, batch, dict.fromkeys(touches.ignored, DONE))
        try:
            for object_type in ("company", "contact"):
                touched = touches.of_type(object_type)
                if touched:
                    self.sync_records(workspace, ObjectType(object_type), touched, self._event_context(batch))
        except (AuthenticationFailed, PermissionDenied) as exc:
            raise RetryLater(f"the connection needs an admin: {exc}", delay_seconds=300) from exc
        remaining = touches.event_ids() - batch.finished
        if remaining:  # merge events whose records were handled above, and anything left over
            with self.db.transaction() as session:
                finish_events(session, batch, dict.fromkeys(remaining & set(batch.event_ids), DONE))

    @staticmethod
    def _event_context(batch: ClaimedBatch) -> RunContext:
        attempts = {event.id: event.attempts for event in batch.events}
        received = {event.id: ensure_utc(event.received_at) for event in batch.events}
        claimed = set(batch.event_ids)

        def touch_attempts(touch: Touch) -> int:
            return max((attempts.get(event_id, 1) for event_id in touch.event_ids), default=1)

        def touch_received(touch: Touch) -> datetime | None:
            return min((received[event_id] for event_id in touch.event_ids if event_id in received), default=None)

        context = RunContext(attempts=touch_attempts, max_attempts=batch.retry.max_attempts, received_at=touch_received)

        def finish(session: Session, _outcomes: list[RecordOutcome]) -> None:
            outcomes = {k: v for k, v in context.event_outcomes.items() if k in claimed}
            context.retry_at.update(finish_events(session, batch, outcomes))

        context.on_persist = finish
        return context

    def sync_records(
        self, workspace: Workspace, object_type: ObjectType, touched: list[Touch], context: RunContext | None = None
    ) -> list[RecordOutcome]:
        """Reconcile these records (and create or link the unlinked ones the rules allow): the engine's core,
        used for inbox batches and bulk jobs alike."""
        context = context or RunContext()
        warm_schemas(self.db, workspace.id, object_type, self.gateway.schema)  # vendor calls, no transaction open
        with self.db.reading() as session:
            config = load_config(session, workspace, object_type, self.gateway.schema)
        reading = _Reading.of(config)
        record_keys = [_lock_key(workspace.id, object_type, t.system, t.record_id) for t in touched]
        with locks.hold(self.db, record_keys):
            items = self._resolve(workspace.id, object_type, touched)
            self._read(reading, items, context)
            unlinked = [
                item
                for item in items
                if item.link is None
                or item.link.state in {"waiting", "needs_review"}
                or not (item.link.hubspot_id and item.link.accelo_id)
            ]
            match_keys = self._match_keys(workspace.id, config, unlinked)
            with locks.hold(self.db, match_keys):
                if match_keys:  # another worker may have linked them while we waited
                    self._refresh_links(workspace.id, reading, unlinked)
                self._match(workspace.id, config, reading, unlinked, context)
                now = self.now()
                for item in items:
                    item.plan = reconcile(
                        config,
                        state_of(item.link) if item.link is not None else None,
                        item.hubspot,
                        item.accelo,
                        Trigger(origin=item.touch.system, now=now),
                        candidates=item.candidates,
                        company_twin=item.company_twin,
                    )
                if context.dry_run:
                    return [self._outcome(item, [], []) for item in items]
                self._apply(config, items)
                return self._persist(workspace, config, items, context)

    @staticmethod
    def _outcome(item: _Item, failures: list[str], warnings: list[str]) -> RecordOutcome:
        outcome, reason = categorise(item.plan, failures, warnings)
        retryable = not failures or any(
            getattr(r.error, "retryable", True) for r in (item.hubspot_result, item.accelo_result) if r and r.error
        )
        return RecordOutcome(
            item.touch.system, item.touch.object_type, item.touch.record_id, outcome, reason, retryable
        )

    # -- identity ------------------------------------------------------------------------------------------

    def _resolve(self, workspace_id: uuid.UUID, object_type: str, touched: list[Touch]) -> list[_Item]:
        with self.db.transaction() as session:
            repository = LinkRepo(session, workspace_id)
            by_hubspot = repository.open_by_hubspot(
                object_type, [t.record_id for t in touched if t.system == "hubspot"]
            )
            by_accelo = repository.open_by_accelo(object_type, [t.record_id for t in touched if t.system == "accelo"])
            items: dict[uuid.UUID | tuple[str, str], _Item] = {}
            for touch in touched:
                link = (by_hubspot if touch.system == "hubspot" else by_accelo).get(touch.record_id)
                key: uuid.UUID | tuple[str, str] = link.id if link is not None else (touch.system, touch.record_id)
                if key in items:  # both sides of one link were touched: one reconcile
                    items[key].touch.event_ids.extend(touch.event_ids)
                else:
                    items[key] = _Item(touch=touch, link=link)
            session.expunge_all()
        return list(items.values())

    def _refresh_links(self, workspace_id: uuid.UUID, reading: _Reading, items: list[_Item]) -> None:
        object_type = reading.object_type
        with self.db.transaction() as session:
            repository = LinkRepo(session, workspace_id)
            hubspot_ids = [i.touch.record_id for i in items if i.touch.system == "hubspot"]
            accelo_ids = [i.touch.record_id for i in items if i.touch.system == "accelo"]
            by_hubspot = repository.open_by_hubspot(object_type, hubspot_ids)
            by_accelo = repository.open_by_accelo(object_type, accelo_ids)
            session.expunge_all()
        for item in items:
            fresh = (by_hubspot if item.touch.system == "hubspot" else by_accelo).get(item.touch.record_id)
            if fresh is not None and fresh.hubspot_id and fresh.accelo_id:
                item.link = fresh
                self._read_pair(reading, item)

    # -- reading -------------------------------------------------------------------------------------------

    def _read(self, reading: _Reading, items: list[_Item], context: RunContext) -> None:
        hubspot_ids, accelo_ids = set(), set()
        for item in items:
            link, touch = item.link, item.touch
            if link is not None and link.hubspot_id:
                hubspot_ids.add(link.hubspot_id)
            elif touch.system == "hubspot":
                hubspot_ids.add(touch.record_id)
            if link is not None and link.accelo_id:
                accelo_ids.add(link.accelo_id)
            elif touch.system == "accelo":
                accelo_ids.add(touch.record_id)
        preloaded = context.preloaded
        hubspot_ids -= {record_id for (system, record_id) in preloaded if system == "hubspot"}
        accelo_ids -= {record_id for (system, record_id) in preloaded if system == "accelo"}
        try:
            hubspot: dict[str, HubSpotRecord | _Gone] = dict(
                self.gateway.hubspot.read(reading.object_type, sorted(hubspot_ids), reading.properties)
            )
            accelo: dict[str, AcceloRecord | _Gone] = dict(
                self.gateway.accelo.read(reading.object_type, sorted(accelo_ids), reading.fields)
            )
        except ConnectorError as exc:
            if isinstance(exc, AuthenticationFailed | PermissionDenied):
                raise
            raise RetryLater(f"could not read records: {exc}") from exc
        for (system, record_id), record in preloaded.items():
            if system == "hubspot" and isinstance(record, HubSpotRecord):
                hubspot[record_id] = record
            elif system == "accelo" and isinstance(record, AcceloRecord):
                accelo[record_id] = record
        for item in items:
            link, touch = item.link, item.touch
            hubspot_id = (
                link.hubspot_id
                if link is not None and link.hubspot_id
                else (touch.record_id if touch.system == "hubspot" else None)
            )
            accelo_id = (
                link.accelo_id
                if link is not None and link.accelo_id
                else (touch.record_id if touch.system == "accelo" else None)
            )
            item.hubspot = hubspot.get(hubspot_id, GONE) if hubspot_id else None
            item.accelo = accelo.get(accelo_id, GONE) if accelo_id else None

    def _read_pair(self, reading: _Reading, item: _Item) -> None:
        link = item.link
        assert link is not None
        if link.hubspot_id:
            found = self.gateway.hubspot.read(reading.object_type, [link.hubspot_id], reading.properties)
            item.hubspot = found.get(link.hubspot_id, GONE)
        if link.accelo_id:
            found_a = self.gateway.accelo.read(reading.object_type, [link.accelo_id], reading.fields)
            item.accelo = found_a.get(link.accelo_id, GONE)

    # -- matching ------------------------------------------------------------------------------------------

    def _origin_record(self, item: _Item) -> HubSpotRecord | AcceloRecord | None:
        record = item.hubspot if item.touch.system == "hubspot" else item.accelo
        return record if isinstance(record, HubSpotRecord | AcceloRecord) else None

    def _match_keys(self, workspace_id: uuid.UUID, config: SyncConfig, items: list[_Item]) -> list[str]:
        keys = []
        for item in items:
            record = self._origin_record(item)
            if record is None or not rule_decision(config, record).matched:
                continue
            found = (
                hubspot_keys(config.object_type, record)
                if isinstance(record, HubSpotRecord)
                else accelo_keys(config.object_type, record)
            )
            keys += [f"{workspace_id}:{config.object_type}:{key.kind}:{key.value}" for key in found[:1]]
        return keys

    def _match(
        self, workspace_id: uuid.UUID, config: SyncConfig, reading: _Reading, items: list[_Item], context: RunContext
    ) -> None:
        for item in items:
            record = self._origin_record(item)
            if record is None or (item.link is not None and item.link.hubspot_id and item.link.accelo_id):
                continue
            if not rule_decision(config, record).matched:
                continue
            keys = (
                hubspot_keys(config.object_type, record)
                if isinstance(record, HubSpotRecord)
                else accelo_keys(config.object_type, record)
            )
            other: Side = "accelo" if isinstance(record, HubSpotRecord) else "hubspot"
            for key in keys:  # email; or domain, then name
                found = self._find(config.object_type, other, key, reading, context)
                if found:
                    item.candidates = [Candidate(record_id, key.kind) for record_id in found]
                    break
            self._mark_taken(workspace_id, config.object_type, item)
        if config.object_type == "contact":
            self._company_twins(workspace_id, config, items)

    def _find(self, object_type: str, system: Side, key: MatchKey, reading: _Reading, context: RunContext) -> list[str]:
        if context.matcher is not None:
            return context.matcher.find(object_type, system, key)
        if system == "accelo":
            return [r.id for r in self.gateway.accelo.find(object_type, key, reading.fields)]
        return [r.id for r in self.gateway.hubspot.find(object_type, key, reading.properties)]

    def _mark_taken(self, workspace_id: uuid.UUID, object_type: str, item: _Item) -> None:
        if not item.candidates:
            return
        with self.db.transaction() as session:
            repository = LinkRepo(session, workspace_id)
            ids = [c.id for c in item.candidates]
            if item.touch.system == "hubspot":
                taken = {k: v.hubspot_id for k, v in repository.open_by_accelo(object_type, ids).items()}
            else:
                taken = {k: v.accelo_id for k, v in repository.open_by_hubspot(object_type, ids).items()}
        item.candidates = [Candidate(c.id, c.matched_by, taken.get(c.id)) for c in item.candidates]

    def _company_twins(self, workspace_id: uuid.UUID, config: SyncConfig, items: list[_Item]) -> None:
        """For contacts that may be created on the other side: the other system's id of their company."""
        creatable = []
        for item in items:
            record = self._origin_record(item)
            if record is not None and not item.candidates and rule_decision(config, record).matched:
                creatable.append((item, record))
        hubspot_ids = [r.id for _, r in creatable if isinstance(r, HubSpotRecord)]
        companies = self.gateway.hubspot.primary_companies(hubspot_ids) if hubspot_ids else {}
        records: list[tuple[_Item, HubSpotRecord | AcceloRecord]] = []
        for item, record in creatable:
            if isinstance(record, HubSpotRecord):
                record = HubSpotRecord(
                    record.id, record.properties, record.updated_at, companies.get(record.id), record.merged_ids
                )
                item.hubspot = record
            records.append((item, record))
        with self.db.transaction() as session:
            repository = LinkRepo(session, workspace_id)
            by_hubspot = repository.open_by_hubspot(
                "company", [r.company_id for _, r in records if isinstance(r, HubSpotRecord) and r.company_id]
            )
            by_accelo = repository.open_by_accelo(
                "company", [r.company_id for _, r in records if isinstance(r, AcceloRecord) and r.company_id]
            )
            for item, record in records:
                if not record.company_id:
                    continue
                link = (by_hubspot if isinstance(record, HubSpotRecord) else by_accelo).get(record.company_id)
                if link is None or link.state == "waiting" or not (link.hubspot_id and link.accelo_id):
                    continue
                item.company_twin = link.accelo_id if isinstance(record, HubSpotRecord) else link.hubspot_id

    # -- writing -------------------------------------------------------------------------------------------

    def _apply(self, config: SyncConfig, items: list[_Item]) -> None:
        hubspot_items = [item for item in items if item.plan is not None and item.plan.hubspot is not None]
        clears = [
            HubSpotWrite(
                record_id=item.plan.hubspot.record_id, properties=dict.fromkeys(item.plan.hubspot.clear_first, "")
            )
            for item in hubspot_items
            if item.plan and item.plan.hubspot and item.plan.hubspot.clear_first and item.plan.hubspot.record_id
        ]
        if clears:  # lifecyclestage moving back: cleared first, then set with the rest
            self.gateway.hubspot.apply(config.object_type, clears)
        if hubspot_items:
            writes = [item.plan.hubspot for item in hubspot_items if item.plan and item.plan.hubspot]
            try:
                results = self.gateway.hubspot.apply(config.object_type, writes)
            except ConnectorError as exc:
                results = [WriteResult(None, exc)] * len(writes)
            for item, result in zip(hubspot_items, results, strict=True):
                item.hubspot_result = self._adopt_conflict(item, result)
        for item in items:
            plan = item.plan
            if plan is None:
                continue
            if plan.accelo is not None:
                try:
                    item.accelo_result = self.gateway.accelo.apply(config.object_type, plan.accelo)
                except ConnectorError as exc:
                    item.accelo_result = WriteResult(None, exc)
            try:
                if plan.delete_hubspot:
                    self.gateway.hubspot.archive(config.object_type, plan.delete_hubspot)
                if plan.delete_accelo:
                    self.gateway.accelo.delete(config.object_type, plan.delete_accelo)
            except ConnectorError as exc:
                item.errors.append(f"deleting the twin failed: {exc}")

    def _adopt_conflict(self, item: _Item, result: WriteResult) -> WriteResult:
        """HubSpot refused to create a contact whose email exists: that contact is the twin; link it."""
        if (
            isinstance(result.error, Conflict)
            and result.error.existing_id
            and item.plan is not None
            and item.plan.hubspot is not None
            and item.plan.hubspot.record_id is None
            and item.plan.link is not None
        ):
            item.plan.link.matched_by = "email"
            item.plan.link.snapshot_after_hubspot.clear()  # not our values: reconcile on the next round
            item.plan.ledger = [
                LedgerDraft(
                    "linked_by_match", reason=f"HubSpot already had this email: linked to {result.error.existing_id}"
                )
            ]
            return WriteResult(result.error.existing_id)
        return result

    # -- persisting ----------------------------------------------------------------------------------------

    def _persist(
        self, workspace: Workspace, config: SyncConfig, items: list[_Item], context: RunContext
    ) -> list[RecordOutcome]:
        now = self.now()
        results: list[RecordOutcome] = []
        resync: list[NewEvent] = []
        retrying: list[tuple[Link, list[int]]] = []
        companies_linked = False
        with self.db.transaction() as session:
            repository = LinkRepo(session, workspace.id)
            for item in items:
                plan = item.plan
                if plan is None:
                    continue
                failures = [str(r.error) for r in (item.hubspot_result, item.accelo_result) if r and r.error]
                failures += item.errors
                warnings = [w for r in (item.hubspot_result, item.accelo_result) if r for w in r.warnings]
                link = self._save_link(session, repository, workspace.id, config, item, now)
                drafts = list(plan.ledger)
                if warnings:
                    drafts += [LedgerDraft("needs_review", reason=warning) for warning in warnings]
                    if link is not None:
                        link.flagged = True
                        link.state = "needs_review"
                        link.state_reason = "; ".join(filter(None, [link.state_reason, *warnings]))
                if failures:
                    drafts = [d for d in drafts if d.action not in {"updated", "created"}] + [
                        LedgerDraft("failed", reason="; ".join(failures))
                    ]
                ledger.record(
                    session,
                    workspace.id,
                    drafts,
                    object_type=config.object_type,
                    link_id=link.id if link else None,
                    hubspot_id=link.hubspot_id if link else _id_of(item.hubspot),
                    accelo_id=link.accelo_id if link else _id_of(item.accelo),
                    event_ids=item.touch.event_ids,
                    job_id=context.job_id,
                )
                result = self._outcome(item, failures, warnings)
                results.append(result)
                context.event_outcomes.update(
                    dict.fromkeys(item.touch.event_ids, Outcome("retry", "; ".join(failures)) if failures else DONE)
                )
                if failures and link is not None:
                    self._note_failure(link, failures, context.attempts(item.touch), context.max_attempts)
                    retrying.append((link, item.touch.event_ids))
                self._observe_latency(item, context)
                newly_linked = item.link is None or not (item.link.hubspot_id and item.link.accelo_id)
                if config.object_type == "company" and newly_linked and link is not None and link.state == "in_sync":
                    companies_linked = True
                if plan.waiting_for_company:
                    resync.append(_resync_event("hubspot", "company", plan.waiting_for_company))
            if companies_linked:
                for waiting in repository.waiting_contacts():
                    system, record_id = (
                        ("hubspot", waiting.hubspot_id) if waiting.hubspot_id else ("accelo", waiting.accelo_id)
                    )
                    if record_id:
                        resync.append(_resync_event(system, "contact", record_id))
            for system in ("hubspot", "accelo"):
                events = [e for e in resync if e.payload["system"] == system]
                if events:
                    accept_events(session, workspace.id, system, events)
            if context.on_persist is not None:
                context.on_persist(session, results)
            for link, event_ids in retrying:  # when its events are due again (None: it gave up)
                link.next_attempt_at = min(
                    (context.retry_at[event_id] for event_id in event_ids if event_id in context.retry_at),
                    default=None,
                )
        return results

    @staticmethod
    def _observe_latency(item: _Item, context: RunContext) -> None:
        """Sync latency: from the event's arrival to a write it caused in the other system."""
        received = context.received_at(item.touch)
        plan = item.plan
        if received is None or plan is None:
            return
        wrote = (plan.hubspot is not None and item.hubspot_result is not None and item.hubspot_result.ok) or (
            plan.accelo is not None and item.accelo_result is not None and item.accelo_result.ok
        )
        if wrote:
            seconds = (utc_now() - received).total_seconds()  # the wall clock, whatever clock the engine runs on
            SYNC_LATENCY.labels(source=item.touch.system).observe(max(0.0, seconds))

    def _save_link(
        self,
        session: Session,
        repository: LinkRepo,
        workspace_id: uuid.UUID,
        config: SyncConfig,
        item: _Item,
        now: datetime,
    ) -> Link | None:
        plan = item.plan
        assert plan is not None
        change = plan.link
        if change is None:
            return None
        hubspot_ok = item.hubspot_result is None or item.hubspot_result.ok
        accelo_ok = item.accelo_result is None or item.accelo_result.ok
        hubspot_id = change.hubspot_id or (item.hubspot_result.record_id if item.hubspot_result else None)
        accelo_id = change.accelo_id or (item.accelo_result.record_id if item.accelo_result else None)
        link = item.link and session.get(Link, item.link.id)
        failed_create = change.matched_by == "created" and not (hubspot_id and accelo_id)
        if link is not None and failed_create:
            return link  # nothing was made: the link stays as it was (waiting), and the retry matches first
        if link is None:
            if not (hubspot_id or accelo_id) or failed_create:
                return None  # a create that failed: nothing to link yet
            link = Link(workspace_id=workspace_id, object_type=config.object_type, snapshot={}, field_states={})
            try:
                with session.begin_nested():
                    link.hubspot_id, link.accelo_id = hubspot_id, accelo_id
                    link.state = change.state
                    session.add(link)
            except IntegrityError:
                # Another worker linked one of these records a moment ago; the retry reconciles through it.
                item.errors.append("linked concurrently by another worker; will reconcile through that link")
                return None
        link.hubspot_id, link.accelo_id = hubspot_id or link.hubspot_id, accelo_id or link.accelo_id
        snapshot = dict(link.snapshot or {})
        snapshot.update(change.snapshot)
        if hubspot_ok:
            snapshot.update(change.snapshot_after_hubspot)
        if accelo_ok:
            snapshot.update(change.snapshot_after_accelo)
        link.snapshot = snapshot
        field_states = dict(change.field_states)
        if hubspot_ok:
            field_states.update(change.field_states_after_hubspot)
        if accelo_ok:
            field_states.update(change.field_states_after_accelo)
        link.field_states = field_states
        link.state = change.state
        link.state_reason = change.reason
        link.flagged = change.flagged
        if change.matched_by:
            link.matched_by = change.matched_by
        wrote = [
            side
            for side, write, ok in (("hubspot", plan.hubspot, hubspot_ok), ("accelo", plan.accelo, accelo_ok))
            if write and ok
        ]
        if wrote:
            link.last_written_side = wrote[-1] if len(wrote) == 1 else "both"
            link.last_written_at = now
        if hubspot_ok and accelo_ok:
            link.attempts, link.last_error, link.next_attempt_at = 0, None, None
            link.last_synced_at = now
        session.flush()
        return link

    @staticmethod
    def _note_failure(link: Link, failures: list[str], attempts: int, max_attempts: int) -> None:
        link.attempts = attempts
        link.last_error = "; ".join(failures)
        if attempts >= max_attempts:
            link.state = "failed"
            link.flagged = True
            link.state_reason = f"gave up after {attempts} attempts: {link.last_error}"


def _lock_key(workspace_id: uuid.UUID, object_type: str, system: str, record_id: str) -> str:
    return f"{workspace_id}:{object_type}:{system}:{record_id}"


def _id_of(record: HubSpotRecord | AcceloRecord | _Gone | None) -> str | None:
    return record.id if isinstance(record, HubSpotRecord | AcceloRecord) else None


def _resync_event(system: str, object_type: str, record_id: str) -> NewEvent:
    return NewEvent(
        kind=RESYNC_KIND,
        dedupe_key=f"resync:{object_type}:{record_id}:{uuid.uuid4().hex}",
        payload={"system": system, "reason": "a dependency changed"},
        object_type=object_type,
        object_id=record_id,
    )


def resync_events(system: str, object_type: str, record_ids: Sequence[str]) -> list[NewEvent]:
    return [_resync_event(system, object_type, record_id) for record_id in record_ids]
