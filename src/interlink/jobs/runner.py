"""One slice of a bulk job on a worker.

    claim (lease + heartbeat) -> [count the source, for the ETA] -> per object type, companies first:
        index the target's match keys, a page at a time -> sync the source batch after batch
    -> after ``job_slice_seconds``: release the claim and re-enqueue (live syncing gets the worker in between)

**Leases.** A worker claims a job with a fresh ``claim_token`` and a lease that a heartbeat thread renews
while the worker lives. Every piece of bookkeeping is written only while the claim is still this worker's. A
worker that dies stops renewing; once the lease has lapsed the sweeper sends the job to another worker, which
takes the claim over and carries on from the checkpoint.

**Checkpoints.** The checkpoint says where the job is: the object type and stage, the source page's cursor and
the last record done in that page, records whose links need their first reconcile, and whether the next batch
must recover. It is saved with every batch, in the transaction that saves the batch's links and ledger
(``RunContext.on_persist``), so a batch is either wholly recorded or not at all, and nothing is counted twice.

**The batch in flight.** A worker can die after a batch's records were created in the target and before the
transaction recording their links committed. Those records exist, but neither the links nor the job's index
know them. So the first batch after a takeover (and after any failed batch) is matched with the vendor's live
search instead of the index: the orphans are found and linked, not created again.

**Batches and yielding.** A batch is sized from measured throughput to take about ``job_batch_seconds``
(1 to 100 records), so when the rate budget is what limits the job, a batch still ends soon and the slice
yields on time. The job's calls go through the bulk views of the clients (``share`` of each rate window).

**Dry runs** plan every batch exactly as a real run (``RunContext(dry_run=True)``), write nothing to either
system, correct for their own earlier predictions, and predict the follow-up of the records a batch links to
an existing twin from the twins as they are (``predictions``).
"""

from __future__ import annotations

import copy
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy.orm import Session

from interlink.connectors.errors import AuthenticationFailed, ConnectorError, PermissionDenied
from interlink.db import Database
from interlink.inbox.service import RetryLater
from interlink.jobs.index import IndexMatcher, key_rows, keys_of
from interlink.jobs.predictions import after_match, predict
from interlink.jobs.repository import ACTIVE, JobLeases, MatchIndex
from interlink.kit.time import ensure_utc, utc_now
from interlink.mappings.fields import ObjectType
from interlink.mappings.rules import Condition, fields_of
from interlink.mappings.service import condition_adapter
from interlink.models import Workspace
from interlink.models.job import Job
from interlink.sync.adapters.accelo import AcceloAdapter
from interlink.sync.adapters.hubspot import HubSpotAdapter
from interlink.sync.config import load_config
from interlink.sync.engine import Engine, Gateway, RunContext, _Reading
from interlink.sync.handler import BulkGateway, bulk_gateway_for
from interlink.sync.links import LinkRepo
from interlink.sync.outcomes import RecordOutcome
from interlink.sync.plan import GONE, AcceloRecord, HubSpotRecord, HubSpotWrite, Side, SyncConfig, _Gone
from interlink.sync.ports import RecordPage, WriteResult
from interlink.sync.reconcile import rule_decision
from interlink.sync.touches import Touch
from interlink.worker.enqueue import enqueue_job

log = logging.getLogger(__name__)

RUN_TASK = "jobs.run"
OBJECT_ORDER = ("company", "contact")
FIRST_BATCH = 20
MAX_BATCH = 100
READS_PER_BATCH = 3  # Accelo calls a batch makes besides writes (contacts and their affiliations, by id)
MIN_WRITE_FRACTION = 0.05
# HubSpot's search trails its writes by a few seconds: a batch that may have created records there is matched
# again by search only once they can be found.
SEARCH_SETTLE = timedelta(seconds=30)
MAX_FAILURES = 6
SAMPLES_PER_OUTCOME = 10
RATE_SAMPLES = 12
RATE_SAMPLE_SECONDS = 5.0

Record = HubSpotRecord | AcceloRecord
Observer = Callable[[str, Sequence[RecordOutcome]], None]
SliceStatus = Literal["not_claimed", "more", "retrying", "completed", "cancelled", "failed", "lost"]


def directions(kind: str) -> tuple[Side, Side]:
    """(source, target): a pull reads HubSpot and writes Accelo; a push the other way round."""
    return ("hubspot", "accelo") if kind == "pull" else ("accelo", "hubspot")


@dataclass
class SliceResult:
    status: SliceStatus
    batches: int = 0
    records: int = 0


class _ClaimLost(Exception):
    """The lease went to another worker; this one stops without writing the job's bookkeeping."""


# -- claims and leases -------------------------------------------------------------------------------------


@dataclass
class _Claim:
    job: Job
    workspace: Workspace
    token: uuid.UUID
    taken_over: bool


def _claim(db: Database, job_id: uuid.UUID, token: uuid.UUID) -> _Claim | None:
    settings = db.settings
    now = utc_now()
    with db.transaction() as session:
        job = JobLeases(session).lock(job_id)
        if job is None or job.status not in ACTIVE:
            return None
        lease = ensure_utc(job.lease_expires_at) if job.lease_expires_at else None
        if job.claim_token is not None and lease is not None and lease > now:
            return None  # a live worker has it
        not_before = (job.checkpoint or {}).get("not_before")
        if job.claim_token is None and not_before and datetime.fromisoformat(not_before) > now:
            return None  # backing off after a failure; the sweeper sends it again when it is time
        if job.cancel_requested:
            _close(session, job, "cancelled", now)
            return None
        taken_over = job.claim_token is not None
        checkpoint = copy.deepcopy(job.checkpoint or {})
        checkpoint.pop("not_before", None)
        if taken_over:
            job.restarts += 1
            position = checkpoint.get("position")
            if position and position.get("stage") == "sync":
                checkpoint["recover"] = True  # the dead worker's batch may have written without recording
                last_sign_of_life = ensure_utc(job.heartbeat_at) if job.heartbeat_at else now
                checkpoint["recover_not_before"] = (last_sign_of_life + SEARCH_SETTLE).isoformat()
            log.warning("job %s: its worker stopped renewing the lease; resuming from its checkpoint", job.id)
        job.checkpoint = checkpoint
        job.claim_token = token
        job.status = "running"
        job.started_at = job.started_at or now
        job.heartbeat_at = now
        job.lease_expires_at = now + timedelta(seconds=settings.job_lease_seconds)
        workspace = session.get(Workspace, job.workspace_id)
        if workspace is None:  # pragma: no cover - deleting a workspace deletes its jobs
            return None
        session.flush()
        session.expunge_all()
    return _Claim(job, workspace, token, taken_over)


def _close(session: Session, job: Job, status: str, now: datetime, error: str | None = None) -> None:
    job.status = status
    job.finished_at = now
    job.heartbeat_at = now
    job.claim_token = None
    job.lease_expires_at = None
    job.error = error
    MatchIndex.clear(session, job.id)


class _Heartbeat:
    """Renews the lease every quarter of it while this worker lives; a killed worker renews nothing."""

    def __init__(self, db: Database, job_id: uuid.UUID, token: uuid.UUID) -> None:
        self.db = db
        self.job_id = job_id
        self.token = token
        self.lease = db.settings.job_lease_seconds
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"job-heartbeat-{job_id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.wait(max(0.1, self.lease / 4)):
            now = utc_now()
            try:
                with self.db.transaction() as session:
                    held = JobLeases(session).renew(self.job_id, self.token, now, now + timedelta(seconds=self.lease))
            except Exception:  # a database hiccup: the next beat tries again, well within the lease
                log.warning("job %s: could not renew the lease", self.job_id, exc_info=True)
                continue
            if not held:
                self.lost = True
                return


# -- the engine's HubSpot port, remembering primary companies ----------------------------------------------


class _RememberingHubSpot:
    """The HubSpot adapter, remembering each contact's primary company the engine asked for in the batch being
    planned (a dry run's predictions for contacts waiting on a company need them). Only dry runs remember, and
    only up to ``limit`` contacts (``forget`` starts each batch afresh), so memory stays flat however long a
    slice runs."""

    def __init__(self, adapter: HubSpotAdapter, *, remember: bool, limit: int = 2 * MAX_BATCH) -> None:
        self.adapter = adapter
        self.remember = remember
        self.limit = limit
        self.companies: dict[str, str | None] = {}

    def forget(self) -> None:
        self.companies.clear()

    def read(self, object_type: str, ids: Sequence[str], properties: Sequence[str]) -> Any:
        return self.adapter.read(object_type, ids, properties)

    def find(self, object_type: str, key: Any, properties: Sequence[str]) -> list[HubSpotRecord]:
        return self.adapter.find(object_type, key, properties)

    def primary_companies(self, contact_ids: Sequence[str]) -> Any:
        found = self.adapter.primary_companies(contact_ids)
        if self.remember:
            for contact, company in found.items():
                self.companies.pop(contact, None)
                self.companies[contact] = company
            for oldest in list(self.companies)[: max(0, len(self.companies) - self.limit)]:
                del self.companies[oldest]
        return found

    def apply(self, object_type: str, writes: Sequence[HubSpotWrite]) -> list[WriteResult]:
        return self.adapter.apply(object_type, writes)

    def archive(self, object_type: str, record_id: str) -> None:
        self.adapter.archive(object_type, record_id)


# -- the slice ---------------------------------------------------------------------------------------------


class _Runner:
    def __init__(
        self, db: Database, claim: _Claim, bulk: BulkGateway, heartbeat: _Heartbeat, observe: Observer | None
    ) -> None:
        job = claim.job
        self.db = db
        self.settings = db.settings
        self.job_id = job.id
        self.token = claim.token
        self.workspace = claim.workspace
        self.dry_run = job.dry_run
        self.object_types = [t for t in OBJECT_ORDER if t in job.object_types]
        self.source, self.target = directions(job.kind)
        self.filters: dict[str, Condition | None] = {
            object_type: condition_adapter.validate_python(condition) if condition else None
            for object_type, condition in ((t, (job.filter or {}).get(t)) for t in self.object_types)
        }
        self.checkpoint: dict[str, Any] = copy.deepcopy(job.checkpoint or {})
        self.counts: dict[str, Any] = copy.deepcopy(job.counts or {})
        self.samples: dict[str, Any] = copy.deepcopy(job.samples or {})
        self.bulk = bulk
        self.hubspot = _RememberingHubSpot(bulk.hubspot, remember=job.dry_run)
        self.engine = Engine(db, Gateway(hubspot=self.hubspot, accelo=bulk.accelo, schema=bulk.schema))
        self.heartbeat = heartbeat
        self.observe = observe
        self.configs: dict[str, SyncConfig] = {}
        self.page: RecordPage[Record] | None = None
        self.page_key: tuple[str, str | None] | None = None
        self.last_batch: dict[str, Record] = {}
        self.share = job.share
        self.write_fraction = 1.0  # until a batch says otherwise, every record may cost a write
        self.max_batch = min(MAX_BATCH, self.settings.job_max_batch)
        self.batch_size = min(
            self.max_batch, self._budget_bound(), int(self.checkpoint.get("batch_size") or FIRST_BATCH)
        )
        self.cancel_seen = False
        self.lost = False
        self.batches = 0
        self.records = 0

    # -- the loop ------------------------------------------------------------------------------------------

    def run(self, deadline: float) -> SliceStatus:
        if "position" not in self.checkpoint:
            self._start()
        settling = self._search_settling()
        if settling > 0:
            return self._release(delay=settling)
        while True:
            if self.lost or self.heartbeat.lost:
                return "lost"
            position = self.checkpoint.get("position")
            if self.checkpoint.get("follow_up"):  # the rest of the last batch: finished before anything else
                self._follow_up()
                continue
            if position is None:
                return self.finish("completed")
            if self.cancel_seen:
                return self.finish("cancelled")
            if time.monotonic() >= deadline:
                return self._release()
            if position["stage"] == "index":
                self._index_page(position["object_type"])
            else:
                self._sync_batch(position["object_type"])

    def _search_settling(self) -> float:
        """Seconds until a batch that may have created HubSpot records without recording them can be matched
        by HubSpot's search (which trails writes); 0 when there is no such batch or Accelo is the target."""
        not_before = self.checkpoint.get("recover_not_before")
        if self.dry_run or self.target != "hubspot" or not self.checkpoint.get("recover") or not not_before:
            return 0.0
        return max(0.0, (datetime.fromisoformat(not_before) - utc_now()).total_seconds())

    def _start(self) -> None:
        """A new job: count the source (for the ETA) and start with the first object type."""
        totals: dict[str, int | None] = {}
        for object_type in self.object_types:
            try:
                totals[object_type] = self._source_adapter().count(object_type)
            except ConnectorError as exc:  # only the ETA suffers
                log.warning("job %s: could not count %ss: %s", self.job_id, object_type, exc)
                totals[object_type] = None
        checkpoint: dict[str, Any] = {
            "position": {"object_type": self.object_types[0], "stage": "index"},
            "index_cursor": None,
            "cursor": None,
            "done_through": None,
            "follow_up": None,
            "recover": False,
            "failures": 0,
            "batch_size": self.batch_size,
            "totals": totals,
            "rate": [],
        }
        self._commit_alone(checkpoint, self.counts, self.samples)

    # -- bookkeeping ---------------------------------------------------------------------------------------

    def _save(
        self, session: Session, checkpoint: dict[str, Any], counts: dict[str, Any], samples: dict[str, Any]
    ) -> bool:
        """Write the job's state, if this worker still holds the claim (in the caller's transaction)."""
        job = JobLeases(session).lock(self.job_id)
        if job is None or job.claim_token != self.token:
            self.lost = True
            return False
        checkpoint["batch_size"] = self.batch_size
        job.checkpoint, job.counts, job.samples = checkpoint, counts, samples
        job.error = None
        if job.cancel_requested:
            self.cancel_seen = True
        return True

    def _commit_alone(
        self,
        checkpoint: dict[str, Any],
        counts: dict[str, Any],
        samples: dict[str, Any],
        also: Callable[[Session], object] | None = None,
    ) -> None:
        """Save the job's state (and ``also``) in a transaction of its own; nothing if the claim was lost."""
        try:
            with self.db.transaction() as session:
                if not self._save(session, checkpoint, counts, samples):
                    raise _ClaimLost()
                if also is not None:
                    also(session)
        except _ClaimLost:
            return
        self.checkpoint, self.counts, self.samples = checkpoint, counts, samples

    def finish(self, status: Literal["completed", "cancelled", "failed"], error: str | None = None) -> SliceStatus:
        with self.db.transaction() as session:
            job = JobLeases(session).lock(self.job_id)
            if job is None or job.claim_token != self.token:
                return "lost"
            _close(session, job, status, utc_now(), error)
        log.info("job %s %s", self.job_id, status)
        return status

    def _release(self, delay: float | None = None, error: str | None = None) -> SliceStatus:
        """Give the worker back. Without ``delay`` the job goes straight back to the queue (behind whatever live
        syncing queued meanwhile); with one, the sweeper sends it again after that long."""
        now = utc_now()
        with self.db.transaction() as session:
            job = JobLeases(session).lock(self.job_id)
            if job is None or job.claim_token != self.token:
                return "lost"
            job.claim_token = None
            if job.cancel_requested:
                _close(session, job, "cancelled", now)
                return "cancelled"
            if delay is None:
                job.lease_expires_at = now + timedelta(seconds=self.settings.job_lease_seconds)
                enqueue_job(session, RUN_TASK, job_id=str(self.job_id))
                return "more"
            job.lease_expires_at = now + timedelta(seconds=delay)
            checkpoint = copy.deepcopy(job.checkpoint)
            checkpoint["not_before"] = job.lease_expires_at.isoformat()
            job.checkpoint = checkpoint
            job.error = error
            return "retrying"

    def retry_later(self, exc: Exception) -> SliceStatus:
        """A batch failed as a whole (a vendor down, a read refused): try again later from the checkpoint, the
        next batch matching by live search (it may have written before failing); give up after a few."""
        failures = int(self.checkpoint.get("failures") or 0) + 1
        reason = f"{type(exc).__name__}: {exc}"
        if failures >= MAX_FAILURES:
            return self.finish("failed", f"gave up after {failures} failed attempts: {reason}")
        checkpoint = copy.deepcopy(self.checkpoint)
        checkpoint["failures"] = failures
        position = checkpoint.get("position")
        if position and position.get("stage") == "sync":
            checkpoint["recover"] = True
            checkpoint["recover_not_before"] = (utc_now() + SEARCH_SETTLE).isoformat()
        self._commit_alone(checkpoint, self.counts, self.samples)
        delay = min(300.0, 5.0 * 2 ** (failures - 1))
        log.warning("job %s: batch failed (%s); retrying in %.0fs", self.job_id, reason, delay)
        return self._release(delay=delay, error=f"retrying in {delay:.0f}s after: {reason}")

    # -- configuration -------------------------------------------------------------------------------------

    def _config(self, object_type: str) -> SyncConfig:
        if object_type not in self.configs:
            with self.db.transaction() as session:
                self.configs[object_type] = load_config(
                    session, self.workspace, ObjectType(object_type), self.bulk.schema
                )
        return self.configs[object_type]

    def _source_adapter(self) -> HubSpotAdapter | AcceloAdapter:
        return self.bulk.hubspot if self.source == "hubspot" else self.bulk.accelo

    def _target_adapter(self) -> HubSpotAdapter | AcceloAdapter:
        return self.bulk.hubspot if self.target == "hubspot" else self.bulk.accelo

    def _passes_filter(self, config: SyncConfig, record: Record) -> bool:
        condition = self.filters.get(config.object_type)
        if condition is None:
            return True
        return rule_decision(replace(config, pull_rule=condition, push_rule=condition), record).matched

    # -- indexing the target -------------------------------------------------------------------------------

    def _index_page(self, object_type: str) -> None:
        page = self._target_adapter().match_keys_page(object_type, after=self.checkpoint.get("index_cursor"))
        rows = [row for record_id, keys in page.items for row in key_rows(keys, record_id)]
        checkpoint = copy.deepcopy(self.checkpoint)
        checkpoint["index_cursor"] = page.next_cursor
        if page.next_cursor is None:
            checkpoint["position"] = {"object_type": object_type, "stage": "sync"}
        counts = copy.deepcopy(self.counts)
        tally = counts.setdefault(object_type, {})
        tally["indexed"] = tally.get("indexed", 0) + len(page.items)
        self._commit_alone(
            checkpoint, counts, self.samples, lambda s: MatchIndex(s, self.job_id, object_type).add(rows)
        )

    # -- syncing the source --------------------------------------------------------------------------------

    def _source_page(self, object_type: str, config: SyncConfig) -> RecordPage[Record]:
        cursor = self.checkpoint.get("cursor")
        if self.page is None or self.page_key != (object_type, cursor):
            reading = _Reading.of(config)
            wanted = fields_of(self.filters.get(object_type))
            adapter = self._source_adapter()
            if isinstance(adapter, HubSpotAdapter):
                listed: RecordPage[Any] = adapter.list_page(
                    object_type, sorted(set(reading.properties) | wanted), after=cursor
                )
            else:
                listed = adapter.list_page(object_type, sorted(set(reading.fields) | wanted), after=cursor)
            self.page, self.page_key = listed, (object_type, cursor)
        return self.page

    def _past_page(self, checkpoint: dict[str, Any], page: RecordPage[Record]) -> dict[str, Any]:
        """The checkpoint once the whole of ``page`` is done: the next page, or the next object type."""
        checkpoint["done_through"] = None
        if page.next_cursor is not None:
            checkpoint["cursor"] = page.next_cursor
            return checkpoint
        current = checkpoint["position"]["object_type"]
        following = self.object_types[self.object_types.index(current) + 1 :]
        checkpoint["cursor"] = None
        checkpoint["index_cursor"] = None
        checkpoint["position"] = {"object_type": following[0], "stage": "index"} if following else None
        return checkpoint

    def _sync_batch(self, object_type: str) -> None:
        config = self._config(object_type)
        page = self._source_page(object_type, config)
        done = self.checkpoint.get("done_through")
        remaining = [record for record in page.items if done is None or _after(record.id, done)]
        checkpoint = copy.deepcopy(self.checkpoint)
        if not remaining:  # an empty page, or one finished by a batch whose bookkeeping moved on
            self._commit_alone(self._past_page(checkpoint, page), self.counts, self.samples)
            return
        batch = remaining[: self.batch_size]
        if len(batch) == len(remaining):
            checkpoint = self._past_page(checkpoint, page)
        else:
            checkpoint["done_through"] = batch[-1].id
        recovering = bool(checkpoint.pop("recover", False))
        checkpoint["recover"] = False
        checkpoint["failures"] = 0
        passing = [record for record in batch if self._passes_filter(config, record)]
        started = time.monotonic()
        self.hubspot.forget()  # what the last batch's contacts were asked for is no longer needed
        if self.dry_run:
            outcomes = self._plan_batch(config, batch, passing, checkpoint)
        else:
            outcomes = self._write_batch(config, batch, passing, checkpoint, recovering)
        self._note_writes(outcomes)
        self._adapt(time.monotonic() - started, len(batch))
        self.batches += 1
        self.records += len(batch)
        self.last_batch = {record.id: record for record in passing}
        if self.observe is not None and not self.lost:
            self.observe(object_type, outcomes)

    def _budget_bound(self) -> int:
        """The most records a batch can take and still end in about ``job_batch_seconds`` once the job's share
        of the Accelo budget is what holds it back, however fast the last batch went (a batch sized while the
        window still had room would otherwise hold its worker for minutes once the window fills). A pull's
        batch costs Accelo a few reads, plus a write for every record it creates or changes (the share of
        those is measured). HubSpot takes 100 records a call, so a push is not bounded here."""
        if self.target != "accelo":
            return MAX_BATCH
        per_second = min(
            (limit.amount * self.share / limit.per_seconds for limit in self.bulk.accelo.client.budget.limits.values()),
            default=float(MAX_BATCH),
        )
        # Where the budget is so tight that the reads alone take longer than the target, batches take twice that.
        seconds = max(self.settings.job_batch_seconds, 2 * READS_PER_BATCH / per_second)
        spare = per_second * seconds - READS_PER_BATCH
        return max(1, int(spare / self.write_fraction))

    def _note_writes(self, outcomes: Sequence[RecordOutcome]) -> None:
        if outcomes:
            writes = sum(1 for o in outcomes if o.outcome in {"created", "updated", "linked"})
            self.write_fraction = max(MIN_WRITE_FRACTION, writes / len(outcomes))

    def _adapt(self, seconds: float, records: int) -> None:
        """Size the next batch to take about ``job_batch_seconds`` at the rate this one ran."""
        if records <= 0:
            return
        per_record = seconds / records
        ideal = self.max_batch if per_record <= 0 else int(self.settings.job_batch_seconds / per_record)
        self.batch_size = max(1, min(self.max_batch, self._budget_bound(), ideal))

    def _write_batch(
        self,
        config: SyncConfig,
        batch: list[Record],
        passing: list[Record],
        checkpoint: dict[str, Any],
        recovering: bool,
    ) -> list[RecordOutcome]:
        object_type = config.object_type
        by_id = {record.id: record for record in passing}
        pending: list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]] = []

        def persist(session: Session, outcomes: list[RecordOutcome]) -> None:
            counts, samples = self._tally(config, batch, passing, outcomes)
            state = copy.deepcopy(checkpoint)
            linked = [o.record_id for o in outcomes if o.outcome == "linked"]
            state["follow_up"] = {"object_type": object_type, "ids": linked} if linked else None
            self._note_rate(state, counts)
            if self._save(session, state, counts, samples):
                self._index_twins(session, object_type, outcomes, by_id, recovering)
                pending.append((state, counts, samples))

        if passing:
            matcher = None
            if not recovering:
                matcher = IndexMatcher(self.db, self.job_id, object_type, self.target)
                matcher.prefetch(passing)
            context = RunContext(
                preloaded={(self.source, record.id): record for record in passing},
                matcher=matcher,
                job_id=self.job_id,
                on_persist=persist,
            )
            touches = [Touch(self.source, object_type, record.id) for record in passing]
            outcomes = self.engine.sync_records(self.workspace, ObjectType(object_type), touches, context)
        else:
            outcomes = []
            with self.db.transaction() as session:
                persist(session, outcomes)
        if pending:
            self.checkpoint, self.counts, self.samples = pending[-1]
        return outcomes

    def _index_twins(
        self,
        session: Session,
        object_type: str,
        outcomes: Sequence[RecordOutcome],
        records: dict[str, Record],
        recovering: bool,
    ) -> None:
        """Records this batch created (or, recovering, found by live search) join the index under their
        source's keys, so a later record with the same key finds them, taken."""
        wanted = {"created", "linked"} if recovering else {"created"}
        ids = [o.record_id for o in outcomes if o.outcome in wanted and o.record_id in records]
        if not ids:
            return
        links = LinkRepo(session, self.workspace.id)
        found = (links.open_by_hubspot if self.source == "hubspot" else links.open_by_accelo)(object_type, ids)
        rows = []
        for record_id, link in found.items():
            twin = link.accelo_id if self.target == "accelo" else link.hubspot_id
            if twin:
                rows += key_rows(keys_of(object_type, records[record_id]), twin)
        MatchIndex(session, self.job_id, object_type).add(rows)

    def _follow_up(self) -> None:
        """Records just linked to an existing twin get their first reconcile now (the side the job reads from
        wins where they differ, as on any first sync), through the job's share of the budget."""
        follow_up = self.checkpoint["follow_up"]
        object_type, ids = follow_up["object_type"], list(follow_up["ids"])
        pending: list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]] = []

        def persist(session: Session, outcomes: list[RecordOutcome]) -> None:
            counts, samples = _tally_after_match(self.counts, self.samples, object_type, outcomes, self.last_batch)
            state = copy.deepcopy(self.checkpoint)
            state["follow_up"] = None
            if self._save(session, state, counts, samples):
                pending.append((state, counts, samples))

        preloaded: dict[tuple[str, str], Record] = {
            (self.source, i): self.last_batch[i] for i in ids if i in self.last_batch
        }
        touches = [Touch(self.source, object_type, record_id) for record_id in ids]
        self.engine.sync_records(
            self.workspace,
            ObjectType(object_type),
            touches,
            RunContext(preloaded=preloaded, job_id=self.job_id, on_persist=persist),
        )
        if pending:
            self.checkpoint, self.counts, self.samples = pending[-1]

    def _plan_batch(
        self, config: SyncConfig, batch: list[Record], passing: list[Record], checkpoint: dict[str, Any]
    ) -> list[RecordOutcome]:
        object_type = config.object_type
        outcomes: list[RecordOutcome] = []
        after: list[RecordOutcome] = []
        rows: list[tuple[str, str, str, str | None]] = []
        if passing:
            matcher = IndexMatcher(self.db, self.job_id, object_type, self.target)
            matcher.prefetch(passing)
            context = RunContext(
                preloaded={(self.source, record.id): record for record in passing},
                matcher=matcher,
                dry_run=True,
                job_id=self.job_id,
            )
            touches = [Touch(self.source, object_type, record.id) for record in passing]
            planned = self.engine.sync_records(self.workspace, ObjectType(object_type), touches, context)
            predicted = predict(
                self.db,
                workspace_id=self.workspace.id,
                job_id=self.job_id,
                config=config,
                source=self.source,
                records=passing,
                outcomes=planned,
                matcher=matcher,
                companies=self.hubspot.companies,
                now=utc_now(),
            )
            outcomes, rows = predicted.outcomes, predicted.rows
            after = self._predict_after_match(config, passing, outcomes, predicted.twins)
        counts, samples = self._tally(config, batch, passing, outcomes)
        if after:  # the real run's follow-up of this batch, before the next batch
            counts, samples = _tally_after_match(counts, samples, object_type, after, {r.id: r for r in passing})
        state = copy.deepcopy(checkpoint)
        self._note_rate(state, counts)
        self._commit_alone(state, counts, samples, lambda s: MatchIndex(s, self.job_id, object_type).add(rows))
        return outcomes

    def _predict_after_match(
        self, config: SyncConfig, passing: list[Record], outcomes: Sequence[RecordOutcome], twins: dict[str, str]
    ) -> list[RecordOutcome]:
        """What the real run's follow-up will do with the records this batch links to an existing twin: the
        twins are read now (as the follow-up reads them), nothing is written."""
        linked = [o.record_id for o in outcomes if o.outcome == "linked" and o.record_id in twins]
        if not linked:
            return []
        reading = _Reading.of(config)
        wanted = sorted({twins[record_id] for record_id in linked})
        if self.target == "accelo":
            found: Mapping[str, Record | _Gone] = self.bulk.accelo.read(config.object_type, wanted, reading.fields)
        else:
            found = self.bulk.hubspot.read(config.object_type, wanted, reading.properties)
        records = {record.id: record for record in passing}
        pairs = [(records[i], twins[i], found.get(twins[i], GONE)) for i in linked]
        return after_match(config, self.source, pairs, utc_now())

    # -- counting ------------------------------------------------------------------------------------------

    def _tally(
        self, config: SyncConfig, batch: list[Record], passing: list[Record], outcomes: Sequence[RecordOutcome]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        object_type = config.object_type
        counts = copy.deepcopy(self.counts)
        samples = copy.deepcopy(self.samples)
        tally = counts.setdefault(object_type, {})
        tally["scanned"] = tally.get("scanned", 0) + len(batch)
        if len(batch) != len(passing):
            tally["filtered_out"] = tally.get("filtered_out", 0) + len(batch) - len(passing)
        records = {record.id: record for record in passing}
        for outcome in outcomes:
            record = records.get(outcome.record_id)
            bucket = outcome.outcome
            if bucket == "skipped":
                by_rule = record is not None and not rule_decision(config, record).matched
                bucket = "skipped_by_rule" if by_rule else "skipped_no_key"
            tally[bucket] = tally.get(bucket, 0) + 1
            _sample(samples, object_type, bucket, outcome, record, outcome.reason)
        return counts, samples

    def _note_rate(self, checkpoint: dict[str, Any], counts: dict[str, Any]) -> None:
        """Keep a minute or so of (time, records scanned) samples, at least ``RATE_SAMPLE_SECONDS`` apart except
        the newest, which follows the job: its recent rate, for the ETA."""
        now = time.time()
        scanned = sum(int(tally.get("scanned", 0)) for tally in counts.values() if isinstance(tally, dict))
        rate = [list(sample) for sample in checkpoint.get("rate") or []]
        if len(rate) >= 2 and now - rate[-2][0] < RATE_SAMPLE_SECONDS:
            rate[-1] = [now, scanned]
        else:
            rate.append([now, scanned])
        checkpoint["rate"] = rate[-RATE_SAMPLES:]


def _tally_after_match(
    counts: dict[str, Any],
    samples: dict[str, Any],
    object_type: str,
    outcomes: Sequence[RecordOutcome],
    records: Mapping[str, Record],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Counts and samples with the first reconcile of newly linked records added (``after_match``)."""
    counts, samples = copy.deepcopy(counts), copy.deepcopy(samples)
    after = counts.setdefault(object_type, {}).setdefault("after_match", {})
    for outcome in outcomes:
        after[outcome.outcome] = after.get(outcome.outcome, 0) + 1
        if outcome.outcome in {"failed", "needs_review"}:
            reason = f"linked, then: {outcome.reason}" if outcome.reason else "linked, then needs a person"
            _sample(samples, object_type, outcome.outcome, outcome, records.get(outcome.record_id), reason)
    return counts, samples


def _sample(
    samples: dict[str, Any],
    object_type: str,
    bucket: str,
    outcome: RecordOutcome,
    record: Record | None,
    reason: str | None,
) -> None:
    kept = samples.setdefault(object_type, {}).setdefault(bucket, [])
    if len(kept) >= SAMPLES_PER_OUTCOME:
        return
    kept.append({"system": outcome.system, "record_id": outcome.record_id, "label": _label(record), "reason": reason})


def _label(record: Record | None) -> str | None:
    """Who a record is, for people reading samples: an email, or a company's name or domain."""
    if isinstance(record, HubSpotRecord):
        values = record.properties
        return values.get("email") or values.get("name") or values.get("domain") or None
    if isinstance(record, AcceloRecord):
        fields = record.fields
        found = fields.get("affiliation.email") or fields.get("email") or fields.get("name")
        if not found and (fields.get("firstname") or fields.get("surname")):
            found = " ".join(str(part) for part in (fields.get("firstname"), fields.get("surname")) if part)
        return str(found) if found else None
    return None


def _after(record_id: str, done_through: str) -> bool:
    """Is ``record_id`` past ``done_through`` in the listing's (ascending id) order?"""
    if record_id.isdigit() and done_through.isdigit():
        return int(record_id) > int(done_through)
    return record_id > done_through


# -- entry point -------------------------------------------------------------------------------------------


def run_slice(
    db: Database, job_id: uuid.UUID, *, bulk: BulkGateway | None = None, observe: Observer | None = None
) -> SliceResult:
    """Run one slice of a job: claim it, work for up to ``job_slice_seconds``, then release it and queue the
    next slice (or finish it). Nothing happens if another live worker holds it or it is not active.

    ``bulk`` replaces the workspace's vendors (tests inject faults this way); ``observe`` is called with each
    batch's outcomes once they are committed. An exception that is not an ``Exception`` (the process being
    torn down) leaves the claim to lapse, exactly like a killed worker.
    """
    token = uuid.uuid4()
    claim = _claim(db, job_id, token)
    if claim is None:
        return SliceResult("not_claimed")
    heartbeat = _Heartbeat(db, job_id, token)
    heartbeat.start()
    try:
        try:
            bulk = bulk or bulk_gateway_for(db, claim.workspace.id, claim.job.share)
        except RetryLater as exc:
            with db.transaction() as session:
                job = JobLeases(session).lock(job_id)
                if job is not None and job.claim_token == token:
                    _close(session, job, "failed", utc_now(), str(exc))
            return SliceResult("failed")
        runner = _Runner(db, claim, bulk, heartbeat, observe)
        deadline = time.monotonic() + db.settings.job_slice_seconds
        try:
            status = runner.run(deadline)
        except (AuthenticationFailed, PermissionDenied) as exc:
            status = runner.finish("failed", f"the connection needs an admin: {exc}")
        except Exception as exc:
            log.warning("job %s: batch failed", job_id, exc_info=True)
            status = runner.retry_later(exc)
        return SliceResult(status, runner.batches, runner.records)
    finally:
        heartbeat.stop()


def sweep(db: Database) -> int:
    """Send every job that should be running but is not to a worker: one whose lease lapsed (its worker died)
    or that has waited past its time (a lost message, the end of a back-off). Returns how many were sent."""
    settings = db.settings
    now = utc_now()
    sent = 0
    with db.transaction() as session:
        for job in JobLeases(session).due(now):
            if job.claim_token is None:  # not again before another lease's length, if this message is lost too
                job.lease_expires_at = now + timedelta(seconds=settings.job_lease_seconds)
            else:
                log.warning("job %s: lease lapsed at %s; sending it to another worker", job.id, job.lease_expires_at)
            enqueue_job(session, RUN_TASK, job_id=str(job.id))
            sent += 1
    return sent
