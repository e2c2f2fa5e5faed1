"""Links as admins and ops see them: list by state, inspect field by field, read the history, and act
(retry, resync, unlink)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from interlink.errors import Conflict, NotFound
from interlink.inbox.service import accept_events
from interlink.mappings.repository import FieldMappingRepo
from interlink.models import LedgerEntry, Link
from interlink.sync import ledger
from interlink.sync.engine import resync_events
from interlink.sync.links import LinkRepo
from interlink.sync.plan import LedgerDraft
from interlink.sync.reconcile import STATUS_KEY
from interlink.sync.schemas import FieldStateRead, LinkDetail, LinkRead


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
