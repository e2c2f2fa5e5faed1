"""From inbox events to touched records: which records a batch must re-read and reconcile.

Events are hints. Many events about one record become one touch (and one reconcile); what an event says about
values is never trusted, the record is re-read. Merges are the exception: they carry identity (which ids now
resolve to which), which the engine applies to the links before reading anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from interlink.inbox.service import ClaimedEvent
from interlink.sync.plan import Side

OBJECT_TYPES = ("company", "contact")
HUBSPOT_TYPE_IDS = {"0-1": "contact", "0-2": "company"}


@dataclass
class Touch:
    system: Side
    object_type: str
    record_id: str
    event_ids: list[int] = field(default_factory=list)
    deleted: bool = False  # the event says so; the re-read decides

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.system, self.object_type, self.record_id)


@dataclass(frozen=True)
class Merge:
    """HubSpot merged ``merged_ids`` (and ``primary_id``) into ``new_id``."""

    object_type: str
    new_id: str
    primary_id: str | None
    merged_ids: tuple[str, ...]
    event_id: int


@dataclass
class Touches:
    by_key: dict[tuple[str, str, str], Touch] = field(default_factory=dict)
    merges: list[Merge] = field(default_factory=list)
    ignored: list[int] = field(default_factory=list)  # events about nothing we sync (deals, tickets, ...)

    def add(self, system: Side, object_type: str, record_id: str, event_id: int, *, deleted: bool = False) -> None:
        touch = self.by_key.setdefault((system, object_type, record_id), Touch(system, object_type, record_id))
        touch.event_ids.append(event_id)
        touch.deleted = touch.deleted or deleted

    def of_type(self, object_type: str) -> list[Touch]:
        return [touch for touch in self.by_key.values() if touch.object_type == object_type]

    def event_ids(self) -> set[int]:
        ids = {event_id for touch in self.by_key.values() for event_id in touch.event_ids}
        return ids | {merge.event_id for merge in self.merges}


def hubspot_object_type(event: ClaimedEvent) -> str | None:
    if event.object_type in OBJECT_TYPES:
        return event.object_type
    kind = event.kind.split(".", 1)[0]
    if kind in OBJECT_TYPES:
        return kind
    return HUBSPOT_TYPE_IDS.get(str(event.payload.get("objectTypeId", "")))


def touches_from(source: Side, events: Iterable[ClaimedEvent]) -> Touches:
    touches = Touches()
    for event in sorted(events, key=lambda e: (e.occurred_at or e.received_at, e.id)):
        object_type = hubspot_object_type(event) if source == "hubspot" else event.object_type
        if object_type not in OBJECT_TYPES or not event.object_id:
            touches.ignored.append(event.id)
            continue
        kind = event.kind
        if source == "hubspot" and kind.endswith(".merge"):
            merge = _merge(object_type, event)
            touches.merges.append(merge)
            touches.add("hubspot", object_type, merge.new_id, event.id)
            continue
        if source == "hubspot" and kind.endswith(".associationChange"):
            # A contact's company changed: the contact is what may need (re)syncing.
            contact = _association_contact(event.payload)
            if contact is None:
                touches.ignored.append(event.id)
            else:
                touches.add("hubspot", "contact", contact, event.id)
            continue
        touches.add(source, object_type, event.object_id, event.id, deleted=kind.endswith(".deletion"))
    return touches


def _ids(values: Any) -> tuple[str, ...]:
    if not isinstance(values, Sequence) or isinstance(values, str):
        return ()
    return tuple(str(value) for value in values)


def _merge(object_type: str, event: ClaimedEvent) -> Merge:
    payload = event.payload
    new_id = str(payload.get("newObjectId") or payload.get("primaryObjectId") or event.object_id)
    primary = payload.get("primaryObjectId")
    return Merge(
        object_type=object_type,
        new_id=new_id,
        primary_id=str(primary) if primary is not None else None,
        merged_ids=_ids(payload.get("mergedObjectIds")),
        event_id=event.id,
    )


def _association_contact(payload: dict[str, Any]) -> str | None:
    association = str(payload.get("associationType", ""))
    if association == "CONTACT_TO_COMPANY":
        return str(payload.get("fromObjectId")) if payload.get("fromObjectId") is not None else None
    if association == "COMPANY_TO_CONTACT":
        return str(payload.get("toObjectId")) if payload.get("toObjectId") is not None else None
    return None
