"""The ``accord`` inbox handler: Accord events become deal property writes, only where a value changed.

One claimed batch, under the workspace's Accord lock (so two workers never push the same Accord at once):

1. **Decide** (one transaction): events are grouped by Accord and the newest one wins (``occurred_at``, then
   arrival); older than data already applied is stale. The link takes the event's data as its snapshot; an
   event naming another deal than the linked one flags the link instead of moving it (relinking is explicit).
   The seven values are computed under the workspace's property names and compared with what was last pushed
   to that deal. Unchanged, stale and held Accords are finished here, with their ledger rows.
2. **Write**: the changed properties of every Accord still to push, through HubSpot's batch update (100 deals
   per call). A deal HubSpot does not know is checked once: merged into another deal (follow it) or gone
   (flag the link with the reason).
3. **Record** (one transaction): what was pushed per deal property, the ledger rows, and the events' outcomes.

A write that fails for a passing reason (rate limit, HubSpot down) sends its events back to the queue with
the error; the snapshot is already stored, so the retry pushes the newest data even if it is the old event
that is retried.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from interlink.accord import ledger
from interlink.accord.ledger import Entry
from interlink.accord.properties import changed_values, property_values, snapshot_of
from interlink.accord.repository import AccordLinkRepo
from interlink.accord.service import (
    FLAG_DEAL_MISMATCH,
    FLAG_DEAL_MISSING,
    FLAG_DEAL_TAKEN,
    PUSH_KIND,
    SOURCE,
    flag,
    link_from_event,
    property_names,
    queue_push,
    taken_detail,
    unflag,
)
from interlink.connections.registry import connectors_for
from interlink.connections.repository import ConnectionRepo
from interlink.connectors.accord.envelope import AccordEnvelope
from interlink.connectors.errors import AuthenticationFailed, ConnectorError, PermissionDenied, RateLimited
from interlink.connectors.hubspot.client import HubSpotClient
from interlink.connectors.hubspot.errors import HubSpotError, HubSpotInvalidRequest, HubSpotNotFound
from interlink.connectors.hubspot.objects import BATCH_LIMIT, RecordUpdate
from interlink.db import Database
from interlink.inbox import handlers
from interlink.inbox.service import DONE, ClaimedBatch, ClaimedEvent, Outcome, finish_events
from interlink.kit.time import utc_now
from interlink.models import AccordLink
from interlink.sync import locks

log = logging.getLogger(__name__)

# HubSpot's codes for "this property cannot be written": a settings problem, not a problem of the deal.
PROPERTY_CODES = {"PROPERTY_DOESNT_EXIST", "READ_ONLY_VALUE", "INVALID_INTEGER", "INVALID_OPTION", "INVALID_STRING"}
ADMIN_RETRY_SECONDS = 300.0


@dataclass
class _Group:
    """The events of one Accord in this batch."""

    accord_id: str
    event_ids: list[int] = field(default_factory=list)
    newest: AccordEnvelope | None = None
    newest_key: tuple[datetime, int] | None = None
    push_requested: bool = False
    force: bool = False


@dataclass
class _Push:
    """One deal to write, and what became of it."""

    accord_id: str
    deal_id: str
    changes: dict[str, str | None]
    previous: dict[str, Any]
    event_ids: list[int]
    error: ConnectorError | None = None
    missing: bool = False
    merged_into: str | None = None


@handlers.register(SOURCE)
def handle_accord_events(db: Database, batch: ClaimedBatch) -> None:
    AccordPusher(db).push(batch)


class AccordPusher:
    def __init__(self, db: Database) -> None:
        self.db = db

    def push(self, batch: ClaimedBatch) -> None:
        groups, broken = _group(batch.events)
        with locks.hold(self.db, [f"{batch.workspace_id}:accord-push"]):
            pushes, client = self._decide(batch, groups, broken)
            if not pushes:
                return
            assert client is not None
            self._write(client, pushes)
            self._record(batch, pushes)

    # -- 1. decide -----------------------------------------------------------------------------------------

    def _decide(
        self, batch: ClaimedBatch, groups: dict[str, _Group], broken: dict[int, str]
    ) -> tuple[list[_Push], HubSpotClient | None]:
        workspace_id = batch.workspace_id
        entries: list[Entry] = []
        outcomes: dict[int, Outcome] = {event_id: Outcome("failed", reason) for event_id, reason in broken.items()}
        pushes: list[_Push] = []
        with self.db.transaction() as session:
            names = property_names(session, workspace_id)
            links = AccordLinkRepo(session, workspace_id).by_accords(groups)
            for group in groups.values():
                push = self._decide_one(session, workspace_id, group, links.get(group.accord_id), names, entries)
                if push is not None:
                    pushes.append(push)
                else:
                    outcomes.update(dict.fromkeys(group.event_ids, DONE))
            session.flush()
            client = None
            if pushes:
                connection = ConnectionRepo(session, workspace_id).get_by_system("hubspot")
                if connection is None:
                    reason = "this workspace has no HubSpot connection; connect HubSpot to push Accord data"
                    for push in pushes:
                        outcomes.update(dict.fromkeys(push.event_ids, Outcome("retry", reason, ADMIN_RETRY_SECONDS)))
                    pushes = []
                else:
                    client = connectors_for(self.db).hubspot(connection)
            ledger.record(session, workspace_id, entries)
            finish_events(session, batch, outcomes)
        return pushes, client

    def _decide_one(
        self,
        session: Session,
        workspace_id: uuid.UUID,
        group: _Group,
        link: AccordLink | None,
        names: dict[str, str],
        entries: list[Entry],
    ) -> _Push | None:
        accord_id, event_ids, newest = group.accord_id, group.event_ids, group.newest
        if link is None:
            deal_id = newest.accord.hubspot_deal_id if newest is not None else None
            if deal_id is None:
                # Unlinked through the API after these events arrived, and they name no deal.
                entries.append(Entry("accord_held", accord_id, None, event_ids, reason="the Accord is not linked"))
                return None
            link = link_from_event(session, workspace_id, accord_id, deal_id, event_ids=event_ids)
        if newest is not None and link.snapshot_at is not None and newest.occurred_at < link.snapshot_at:
            entries.append(
                Entry(
                    "accord_stale",
                    accord_id,
                    link.deal_id,
                    event_ids,
                    reason=f"these events ({newest.occurred_at.isoformat()}) are older than the data already "
                    f"applied ({link.snapshot_at.isoformat()})",
                )
            )
            newest = None
        if newest is not None:
            link.snapshot = snapshot_of(newest.accord)
            link.snapshot_at = newest.occurred_at
            link.snapshot_trigger = newest.trigger.value
            self._follow_deal(session, link, newest.accord.hubspot_deal_id, event_ids, entries)
        elif not group.push_requested:
            return None
        if link.flagged or link.deal_id is None:
            entries.append(
                Entry("accord_held", accord_id, link.deal_id, event_ids, reason=link.flag_detail or "no deal linked")
            )
            return None
        if not link.snapshot:
            entries.append(Entry("accord_unchanged", accord_id, link.deal_id, event_ids, reason="no Accord data yet"))
            return None
        desired = property_values(link.snapshot, names)
        changes = changed_values(desired, link.pushed, force=group.force)
        if not changes:
            entries.append(
                Entry(
                    "accord_unchanged",
                    accord_id,
                    link.deal_id,
                    event_ids,
                    reason="the deal already has these values from us; nothing written",
                    details={"events": len(event_ids)},
                )
            )
            return None
        previous = {name: link.pushed.get(name) for name in changes}
        return _Push(accord_id, link.deal_id, changes, previous, event_ids)

    def _follow_deal(
        self, session: Session, link: AccordLink, deal_id: str | None, event_ids: list[int], entries: list[Entry]
    ) -> None:
        """Apply what the newest event says about the deal. Moving to another deal is never done here."""
        if deal_id is None or deal_id == link.deal_id:
            if link.flagged and link.flag_reason in {FLAG_DEAL_MISMATCH, FLAG_DEAL_TAKEN} and deal_id is not None:
                unflag(link)  # Accord names the linked deal again
                entries.append(
                    Entry(
                        "accord_unflagged",
                        link.accord_id,
                        link.deal_id,
                        event_ids,
                        reason="Accord names the linked deal again",
                    )
                )
            return
        if link.deal_id is None:
            # Never linked (the deal it asked for had another Accord): take the deal if it is free now.
            if self._take_deal(session, link, deal_id):
                entries.append(
                    Entry("accord_linked", link.accord_id, deal_id, event_ids, reason="the deal it names is free now")
                )
                return
            holder = AccordLinkRepo(session, link.workspace_id).by_deal(deal_id)
            detail = taken_detail(deal_id, holder.accord_id if holder else None)
            if link.requested_deal_id != deal_id or link.flag_reason != FLAG_DEAL_TAKEN:
                flag(link, FLAG_DEAL_TAKEN, detail, requested_deal_id=deal_id)
                entries.append(Entry("accord_flagged", link.accord_id, deal_id, event_ids, reason=detail))
            return
        if link.flag_reason == FLAG_DEAL_MISMATCH and link.requested_deal_id == deal_id:
            return  # already flagged for this very deal
        detail = (
            f"Accord now names deal {deal_id}, but the Accord is linked to deal {link.deal_id}; pushes are held. "
            f"Relink explicitly (PUT /api/v1/accord/links/{link.accord_id} with deal_id {deal_id}) to move it"
        )
        flag(link, FLAG_DEAL_MISMATCH, detail, requested_deal_id=deal_id)
        entries.append(Entry("accord_flagged", link.accord_id, link.deal_id, event_ids, reason=detail))

    @staticmethod
    def _take_deal(session: Session, link: AccordLink, deal_id: str) -> bool:
        if AccordLinkRepo(session, link.workspace_id).by_deal(deal_id) is not None:
            return False
        link.deal_id = deal_id
        link.pushed = {}
        unflag(link)
        try:
            with session.begin_nested():
                session.flush()
        except IntegrityError:  # taken by a concurrent intake in the meantime
            session.refresh(link)
            return False
        return True

    # -- 2. write ------------------------------------------------------------------------------------------

    def _write(self, client: HubSpotClient, pushes: list[_Push]) -> None:
        for start in range(0, len(pushes), BATCH_LIMIT):
            chunk = pushes[start : start + BATCH_LIMIT]
            try:
                outcome = client.deals.batch_update([RecordUpdate(push.deal_id, push.changes) for push in chunk])
            except ConnectorError as exc:  # the whole call failed: HubSpot down, rate limited, credentials
                for push in chunk:
                    push.error = exc
                continue
            for push, item in zip(chunk, outcome.items, strict=True):
                push.error = item.error
        for push in pushes:
            if push.error is not None and _about_the_deal(push.error):
                self._check_deal(client, push)

    @staticmethod
    def _check_deal(client: HubSpotClient, push: _Push) -> None:
        """HubSpot refused the write for this deal: is the deal gone, or merged into another one?"""
        try:
            deal = client.deals.get(push.deal_id, properties=["dealname"])
        except HubSpotNotFound:
            push.missing = True
            return
        except ConnectorError as exc:
            push.error = exc
            return
        if deal.id != push.deal_id:
            # Merged (batch update does not follow merged-away ids). Nothing is written to the survivor
            # until the link is moved to it, and only if no other Accord has it.
            push.merged_into = deal.id
            push.error = None

    # -- 3. record -----------------------------------------------------------------------------------------

    def _record(self, batch: ClaimedBatch, pushes: Sequence[_Push]) -> None:
        workspace_id = batch.workspace_id
        entries: list[Entry] = []
        outcomes: dict[int, Outcome] = {}
        now = utc_now()
        with self.db.transaction() as session:
            names = set(property_names(session, workspace_id).values())
            links = AccordLinkRepo(session, workspace_id).by_accords([push.accord_id for push in pushes])
            for push in pushes:
                link = links.get(push.accord_id)
                if push.missing:
                    self._record_missing(link, push, entries)
                    outcomes.update(dict.fromkeys(push.event_ids, DONE))
                elif push.error is not None:
                    entries.append(
                        Entry("accord_failed", push.accord_id, push.deal_id, push.event_ids, reason=str(push.error))
                    )
                    outcomes.update(dict.fromkeys(push.event_ids, _retry(push.error)))
                elif push.merged_into is not None:
                    self._record_merge(session, link, push, entries)
                    outcomes.update(dict.fromkeys(push.event_ids, DONE))
                else:
                    self._record_push(link, push, names, now, entries)
                    outcomes.update(dict.fromkeys(push.event_ids, DONE))
            session.flush()
            ledger.record(session, workspace_id, entries)
            finish_events(session, batch, outcomes)

    @staticmethod
    def _record_push(
        link: AccordLink | None, push: _Push, names: set[str], now: datetime, entries: list[Entry]
    ) -> None:
        for name, value in push.changes.items():
            entries.append(
                Entry(
                    "accord_pushed",
                    push.accord_id,
                    push.deal_id,
                    push.event_ids,
                    field=name,
                    old_value=push.previous.get(name),
                    new_value=value,
                )
            )
        if link is None or link.deal_id != push.deal_id:
            # Relinked or unlinked through the API while we wrote: what we wrote belongs to the old deal.
            return
        link.pushed = {name: value for name, value in {**link.pushed, **push.changes}.items() if name in names}
        link.last_pushed_at = now

    def _record_merge(self, session: Session, link: AccordLink | None, push: _Push, entries: list[Entry]) -> None:
        survivor = push.merged_into
        assert survivor is not None
        if link is None or link.deal_id != push.deal_id:
            return  # relinked or unlinked through the API meanwhile: nothing to follow
        holder = AccordLinkRepo(session, link.workspace_id).by_deal(survivor)
        if holder is not None and holder.id != link.id:
            detail = f"HubSpot merged deal {push.deal_id} into {survivor}; " + taken_detail(survivor, holder.accord_id)
            flag(link, FLAG_DEAL_TAKEN, detail, requested_deal_id=survivor)
            entries.append(Entry("accord_flagged", link.accord_id, push.deal_id, push.event_ids, reason=detail))
            return
        link.deal_id = survivor
        link.linked_by = "merge"
        link.pushed = {}  # what the survivor holds is not known to be ours: everything is written again
        entries.append(
            Entry(
                "accord_relinked",
                link.accord_id,
                survivor,
                push.event_ids,
                old_value=push.deal_id,
                new_value=survivor,
                reason=f"HubSpot merged deal {push.deal_id} into {survivor}; the link follows it",
            )
        )
        queue_push(session, link.workspace_id, link, force=False)

    @staticmethod
    def _record_missing(link: AccordLink | None, push: _Push, entries: list[Entry]) -> None:
        detail = (
            f"HubSpot has no deal {push.deal_id} (deleted, or never existed); pushes are held. Restore the deal and "
            f"relink it, or link the Accord to another deal (PUT /api/v1/accord/links/{push.accord_id})"
        )
        if link is not None and link.deal_id == push.deal_id:
            flag(link, FLAG_DEAL_MISSING, detail)
        entries.append(Entry("accord_flagged", push.accord_id, push.deal_id, push.event_ids, reason=detail))


def _about_the_deal(error: ConnectorError) -> bool:
    """A refusal that may mean the deal is gone (HubSpot's batch answers are not specific about it)."""
    if isinstance(error, HubSpotNotFound):
        return True
    return isinstance(error, HubSpotInvalidRequest) and not (set(error.codes) & PROPERTY_CODES)


def _retry(error: ConnectorError) -> Outcome:
    if isinstance(error, AuthenticationFailed | PermissionDenied):
        return Outcome("retry", f"HubSpot refused our credentials: {error}", ADMIN_RETRY_SECONDS)
    if isinstance(error, HubSpotError) and set(error.codes) & PROPERTY_CODES:
        # The deal properties are missing or of another type: retrying soon cannot help, an admin can.
        hint = "check the Accord property names, or run `interlink accord provision`"
        return Outcome("retry", f"{error} ({hint})", ADMIN_RETRY_SECONDS)
    return Outcome("retry", str(error), error.retry_after if isinstance(error, RateLimited) else None)


def _group(events: Sequence[ClaimedEvent]) -> tuple[dict[str, _Group], dict[int, str]]:
    """Events by Accord, the newest data event of each kept; events that cannot be read are set aside."""
    groups: dict[str, _Group] = {}
    broken: dict[int, str] = {}
    by_accord: dict[str, list[ClaimedEvent]] = defaultdict(list)
    for event in events:
        if event.object_id:
            by_accord[event.object_id].append(event)
        else:
            broken[event.id] = "an Accord event without an Accord id"
    for accord_id, accord_events in by_accord.items():
        group = groups[accord_id] = _Group(accord_id)
        for event in accord_events:
            group.event_ids.append(event.id)
            if event.kind == PUSH_KIND:
                group.push_requested = True
                group.force = group.force or bool(event.payload.get("force"))
                continue
            try:
                envelope = AccordEnvelope.model_validate(event.payload)
            except ValidationError as exc:
                group.event_ids.remove(event.id)
                broken[event.id] = f"stored Accord event cannot be read: {exc.errors()[0]['msg']}"
                continue
            key = (envelope.occurred_at, event.id)
            if group.newest_key is None or key > group.newest_key:
                group.newest, group.newest_key = envelope, key
        if not group.event_ids:
            del groups[accord_id]
    return groups, broken
