"""Links as admins and ops see them: list by state, inspect field by field, read the history, and act
(retry, resync, unlink; and from the review queue: keep one side's value of a held field, link a record to its
twin by hand, ignore)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from interlink.errors import Conflict, NotFound, ValidationFailed
from interlink.inbox.service import accept_events
from interlink.mappings.repository import FieldMappingRepo
from interlink.models import LedgerEntry, Link
from interlink.sync import ledger
from interlink.sync.engine import resync_events
from interlink.sync.links import LinkRepo
from interlink.sync.plan import LedgerDraft
from interlink.sync.reconcile import STATUS_KEY
from interlink.sync.schemas import FieldStateRead, LinkDetail, LinkRead, LinkSummary

Side = Literal["hubspot", "accelo"]
SYSTEM_NAMES = {"hubspot": "HubSpot", "accelo": "Accelo"}


def get_link(session: Session, workspace_id: uuid.UUID, link_id: uuid.UUID) -> Link:
    link = LinkRepo(session, workspace_id).get(link_id)
    if link is None:
        raise NotFound(f"link {link_id} not found")
    return link


def list_links(
    session: Session,
    workspace_id: uuid.UUID,
    *,
    state: str | None,
    flagged: bool | None,
    object_type: str | None,
    search: str | None,
    after: uuid.UUID | None,
    limit: int,
) -> Sequence[Link]:
    repository = LinkRepo(session, workspace_id)
    return repository.all(
        repository.list_statement(
            state=state, flagged=flagged, object_type=object_type, search=search, after=after, limit=limit
        )
    )


def link_detail(session: Session, workspace_id: uuid.UUID, link_id: uuid.UUID) -> LinkDetail:
    link = get_link(session, workspace_id, link_id)
    mappings = FieldMappingRepo(session, workspace_id).for_type(link.object_type)
    snapshot, states = link.snapshot or {}, link.field_states or {}
    fields = []
    for mapping in mappings:
        held = states.get(mapping.key) or {}
        fields.append(
            FieldStateRead(
                key=mapping.key,
                hubspot_property=mapping.hubspot_property,
                accelo_field=mapping.accelo_field,
                agreed_value=snapshot.get(mapping.key),
                state=held.get("state", "in_sync" if mapping.enabled else "disabled"),
                reason=held.get("reason"),
                hubspot_value=held.get("hubspot"),
                accelo_value=held.get("accelo"),
            )
        )
    status = states.get(STATUS_KEY) or {}
    fields.append(
        FieldStateRead(
            key=STATUS_KEY,
            hubspot_property=None,
            accelo_field=None,
            agreed_value=snapshot.get(STATUS_KEY),
            state=status.get("state", "in_sync"),
            reason=status.get("reason"),
        )
    )
    return LinkDetail(**LinkRead.model_validate(link).model_dump(), fields=fields)


def history(
    session: Session,
    workspace_id: uuid.UUID,
    link_id: uuid.UUID,
    *,
    field: str | None,
    before_id: int | None,
    limit: int,
) -> Sequence[LedgerEntry]:
    link = get_link(session, workspace_id, link_id)
    statement = select(LedgerEntry).where(LedgerEntry.workspace_id == workspace_id, LedgerEntry.link_id == link.id)
    if field:
        statement = statement.where(LedgerEntry.field.startswith(field))
    if before_id is not None:
        statement = statement.where(LedgerEntry.id < before_id)
    return session.scalars(statement.order_by(LedgerEntry.id.desc()).limit(limit)).all()


def _queue_resync(session: Session, link: Link, sides: Sequence[str]) -> int:
    queued = 0
    for side in sides:
        record_id = link.hubspot_id if side == "hubspot" else link.accelo_id
        if record_id:
            accept_events(session, link.workspace_id, side, resync_events(side, link.object_type, [record_id]))
            queued += 1
    return queued


def retry(session: Session, workspace_id: uuid.UUID, link_id: uuid.UUID) -> tuple[Link, int]:
    """Try a failed (or flagged) record again now, from both sides."""
    link = get_link(session, workspace_id, link_id)
    if link.state == "closed":
        raise Conflict(f"link {link_id} is closed; there is nothing to retry")
    link.attempts, link.next_attempt_at = 0, None
    if link.state == "failed":
        link.state = "in_sync"
    session.flush()
    return link, _queue_resync(session, link, ["hubspot", "accelo"])


def resync(session: Session, workspace_id: uuid.UUID, link_id: uuid.UUID, prefer: str | None) -> tuple[Link, int]:
    link = get_link(session, workspace_id, link_id)
    if link.state == "closed":
        raise Conflict(f"link {link_id} is closed; relink the records instead")
    if prefer is not None:
        # Without a base every difference is a first sync, and the side that triggers it wins.
        link.snapshot, link.field_states = {}, {}
        link.state, link.flagged, link.state_reason = "in_sync", False, None
        ledger.record(
            session,
            workspace_id,
            [LedgerDraft("resync", reason=f"resync requested: {prefer} wins every difference")],
            object_type=link.object_type,
            link_id=link.id,
            hubspot_id=link.hubspot_id,
            accelo_id=link.accelo_id,
        )
    session.flush()
    return link, _queue_resync(session, link, [prefer] if prefer else ["hubspot", "accelo"])


def unlink(session: Session, workspace_id: uuid.UUID, link_id: uuid.UUID) -> Link:
    link = get_link(session, workspace_id, link_id)
    if link.state == "closed":
        return link
    link.state, link.flagged, link.state_reason = "closed", False, "unlinked through the API"
    ledger.record(
        session,
        workspace_id,
        [LedgerDraft("unlinked", reason="unlinked through the API; both records left as they are")],
        object_type=link.object_type,
        link_id=link.id,
        hubspot_id=link.hubspot_id,
        accelo_id=link.accelo_id,
    )
    session.flush()
    return link


# -- the review queue ------------------------------------------------------------------------------------------


def summary(session: Session, workspace_id: uuid.UUID) -> LinkSummary:
    """How many records are in each state, and how many wait for a person (the review queue)."""
    repository = LinkRepo(session, workspace_id)
    return LinkSummary(counts=repository.count_by_state(), flagged=repository.count_flagged())


def recent_activity(
    session: Session, workspace_id: uuid.UUID, *, before_id: int | None = None, limit: int = 50
) -> Sequence[LedgerEntry]:
    """The workspace's latest sync decisions, newest first."""
    statement = select(LedgerEntry).where(LedgerEntry.workspace_id == workspace_id)
    if before_id is not None:
        statement = statement.where(LedgerEntry.id < before_id)
    return session.scalars(statement.order_by(LedgerEntry.id.desc()).limit(limit)).all()


def _record(session: Session, link: Link, draft: LedgerDraft) -> None:
    ledger.record(
        session,
        link.workspace_id,
        [draft],
        object_type=link.object_type,
        link_id=link.id,
        hubspot_id=link.hubspot_id,
        accelo_id=link.accelo_id,
    )


def _show(value: object) -> str:
    return "(empty)" if value is None or value == "" else repr(value)


def resolve_field(
    session: Session, workspace_id: uuid.UUID, link_id: uuid.UUID, key: str, keep: Side, *, actor: str = "the API"
) -> tuple[Link, int]:
    """A person settles a field held for review: ``keep``'s value is written to the other system.

    The field's base becomes the losing side's value, so the next reconcile sees "only ``keep`` moved" and
    writes it across (through the usual path: rate limits, ledger, echo suppression). Should the losing side
    have changed again meanwhile, both sides moved once more and the field is held again, never overwritten.
    """
    link = get_link(session, workspace_id, link_id)
    if link.state == "closed":
        raise Conflict(f"link {link_id} is closed; there is nothing to resolve")
    states = dict(link.field_states or {})
    held = states.get(key) or {}
    if held.get("state") not in {"review", "paused"}:
        raise Conflict(f"{key} is not held for a decision on this record", details={"field": "field"})
    mapping = next(
        (m for m in FieldMappingRepo(session, workspace_id).for_type(link.object_type) if m.key == key), None
    )
    if held.get("state") == "paused" or mapping is None:
        # Paused by the oscillation breaker (or its mapping is gone): no values were held; sync it again.
        states.pop(key, None)
        link.field_states = states
        if link.state == "paused" and not any(s.get("state") == "paused" for s in states.values()):
            link.state, link.flagged, link.state_reason = "in_sync", False, None  # the resync re-checks the rest
        _record(session, link, LedgerDraft("resumed", field=key, reason=f"{actor} resumed syncing {key}"))
        session.flush()
        return link, _queue_resync(session, link, ["hubspot", "accelo"])
    target: Side = "accelo" if keep == "hubspot" else "hubspot"
    if (target == "accelo" and mapping.direction == "to_hubspot") or (
        target == "hubspot" and mapping.direction == "to_accelo"
    ):
        raise Conflict(
            f"{mapping.hubspot_property} <-> {mapping.accelo_field} never writes to {SYSTEM_NAMES[target]} "
            f"(direction {mapping.direction}), so {SYSTEM_NAMES[keep]}'s value cannot be copied there",
            details={"field": "keep", "fix": f"keep {SYSTEM_NAMES[target]}'s value, or change the mapping's direction"},
        )
    winning, losing = held.get(keep), held.get(target)
    states.pop(key)
    link.field_states = states
    snapshot = dict(link.snapshot or {})
    snapshot[key] = losing
    link.snapshot = snapshot
    _record(
        session,
        link,
        LedgerDraft(
            "conflict_resolved",
            field=key,
            direction=f"to_{target}",
            old_value=losing,
            new_value=winning,
            reason=f"{actor} kept {SYSTEM_NAMES[keep]}'s value {_show(winning)}; it is written to "
            f"{SYSTEM_NAMES[target]} (replacing {_show(losing)})",
            details={"winner": keep, "losing_value": losing, "by": actor, "policy": "review"},
        ),
    )
    session.flush()
    return link, _queue_resync(session, link, [keep])


def link_by_hand(
    session: Session,
    workspace_id: uuid.UUID,
    link_id: uuid.UUID,
    *,
    hubspot_id: str | None = None,
    accelo_id: str | None = None,
    prefer: Side | None = None,
    actor: str = "the API",
) -> tuple[Link, int]:
    """Pair a record that waits for review (several possible twins, or none found) with a twin a person chose.

    The pair starts like any new link, with no agreed values: where the two differ, ``prefer``'s values win
    (default: the record that was waiting), and a blank never overwrites a value.
    """
    link = get_link(session, workspace_id, link_id)
    if link.state == "closed":
        raise Conflict(f"link {link_id} is closed; open the record again from its system")
    if link.hubspot_id and link.accelo_id:
        raise Conflict("this record is already linked on both sides; unlink it first to pair it differently")
    given = hubspot_id if link.accelo_id else accelo_id
    side: Side = "hubspot" if link.accelo_id else "accelo"
    if not given or not given.strip().isdigit():
        raise ValidationFailed(
            f"give the {SYSTEM_NAMES[side]} {link.object_type} id to link to (digits)",
            details={"field": f"{side}_id"},
        )
    given = given.strip()
    repository = LinkRepo(session, workspace_id)
    taken = (repository.open_by_hubspot if side == "hubspot" else repository.open_by_accelo)(link.object_type, [given])
    holder = taken.get(given)
    if holder is not None and holder.id != link.id:
        other = holder.accelo_id if side == "hubspot" else holder.hubspot_id
        other_side = "Accelo" if side == "hubspot" else "HubSpot"
        raise Conflict(
            f"{SYSTEM_NAMES[side]} {link.object_type} {given} is already linked"
            + (f" to {other_side} {link.object_type} {other}" if other else ""),
            details={"field": f"{side}_id", "link_id": str(holder.id), "fix": "unlink that record first"},
        )
    waiting: Side = "accelo" if side == "hubspot" else "hubspot"
    winner = prefer or waiting
    try:
        with session.begin_nested():
            if side == "hubspot":
                link.hubspot_id = given
            else:
                link.accelo_id = given
            link.state, link.flagged, link.matched_by = "in_sync", False, "manual"
            link.state_reason = f"linked by hand by {actor}"
            link.snapshot, link.field_states = {}, {}
            link.attempts, link.last_error, link.next_attempt_at = 0, None, None
            session.flush()
    except IntegrityError:
        raise Conflict(f"{SYSTEM_NAMES[side]} {link.object_type} {given} was linked a moment ago; reload") from None
    _record(
        session,
        link,
        LedgerDraft(
            "linked_by_hand",
            reason=f"{actor} linked it to {SYSTEM_NAMES[side]} {link.object_type} {given}; "
            f"{SYSTEM_NAMES[winner]}'s values win where the two differ",
            details={"by": actor, "prefer": winner},
        ),
    )
    return link, _queue_resync(session, link, [winner])


def ignore(session: Session, workspace_id: uuid.UUID, link_id: uuid.UUID, *, actor: str = "the API") -> Link:
    """Take a record out of the review queue. It keeps its state; anything new that needs a person brings it
    back."""
    link = get_link(session, workspace_id, link_id)
    if not link.flagged:
        return link
    link.flagged = False
    _record(
        session,
        link,
        LedgerDraft(
            "ignored",
            reason=f"{actor} took it out of the review queue; it stays {link.state.replace('_', ' ')}"
            + (f" ({link.state_reason})" if link.state_reason else ""),
            details={"by": actor, "state": link.state},
        ),
    )
    session.flush()
    return link
