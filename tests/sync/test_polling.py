"""Polling reconciliation (what beat runs every minute): HubSpot's lastmodifieddate sweep catches an edit whose
webhook never arrived, the cursors are kept per workspace and the next poll resumes from them, and the deletion
scan closes and flags the link of a record deleted in Accelo (which sends no webhook for it)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from interlink.kit.time import to_epoch_millis
from interlink.models import InboundEvent, LedgerEntry, Link, SyncCursor
from interlink.sync.polling import HUBSPOT_OVERLAP, poll_workspace
from tests.fixtures.factories import create_tenant
from tests.fixtures.world import World
from tests.sync.test_end_to_end import affiliation_of, hubspot_value, linked_contact, writes


def cursors(world: World) -> dict[str, str]:
    with world.db.transaction() as session:
        rows = session.scalars(select(SyncCursor).where(SyncCursor.workspace_id == world.workspace_id)).all()
        return {row.name: row.value for row in rows}


def set_cursor(world: World, name: str, value: str | None) -> None:
    with world.db.transaction() as session:
        row = session.scalars(
            select(SyncCursor).where(SyncCursor.workspace_id == world.workspace_id, SyncCursor.name == name)
        ).one()
        if value is None:
            session.delete(row)
        else:
            row.value = value


def stored_events(world: World, source: str) -> int:
    with world.db.transaction() as session:
        statement = select(func.count()).select_from(InboundEvent).where(InboundEvent.source == source)
        return int(session.scalar(statement) or 0)


def test_the_hubspot_sweep_catches_an_edit_whose_webhook_was_dropped(world: World) -> None:
    contact, accelo_id, link = linked_contact(world)
    world.hubspot.configure_webhooks(enabled=False)  # HubSpot's webhooks are lost from here on
    world.hubspot.update_as_user("contacts", contact, {"firstname": "Augusta"})
    world.settle()
    assert world.accelo.record("contact", accelo_id)["firstname"] == "Ada"  # nothing told Interlink

    result = poll_workspace(world.db, world.workspace_id)
    assert result.events["hubspot:contacts"] >= 1
    world.settle()
    assert world.accelo.record("contact", accelo_id)["firstname"] == "Augusta"
    with world.db.transaction() as session:
        (update,) = session.scalars(
            select(LedgerEntry).where(LedgerEntry.action == "updated", LedgerEntry.link_id == link.id)
        ).all()
        (cause,) = session.scalars(select(InboundEvent).where(InboundEvent.id.in_(update.event_ids))).all()
    assert (update.field, update.direction, update.new_value) == ("firstname|firstname", "to_accelo", "Augusta")
    assert (cause.kind, cause.payload.get("polled")) == ("poll.update", True)


def test_cursors_are_kept_per_workspace_and_the_next_poll_resumes_from_them(world: World) -> None:
    contact, accelo_id, _ = linked_contact(world)
    assert cursors(world) == {}
    world.hubspot.configure_webhooks(enabled=False)
    world.hubspot.update_as_user("contacts", contact, {"firstname": "Augusta"})
    world.poll()
    assert world.accelo.record("contact", accelo_id)["firstname"] == "Augusta"
    first = cursors(world)
    assert {"hubspot:contacts", "hubspot:companies", "accelo:contacts", "accelo:affiliations"} <= set(first)
    # HubSpot's cursor: the newest change the sweep read (this edit), less an overlap for late indexing
    edited = to_epoch_millis(datetime.fromisoformat(world.hubspot.record("contacts", contact)["updatedAt"]))
    expected = edited - int(HUBSPOT_OVERLAP.total_seconds() * 1000)
    assert abs(int(first["hubspot:contacts"]) - expected) <= 1
    other = create_tenant(world.db, "Another workspace")
    poll_workspace(world.db, other.workspace.id)  # not connected: polls nothing, keeps no cursor
    with world.db.transaction() as session:
        assert session.scalars(select(SyncCursor).where(SyncCursor.workspace_id == other.workspace.id)).all() == []
    assert cursors(world) == first

    # The next poll: what the first one read is not stored again, nothing is written. (Accelo's feed shows our
    # own write there once; reconciling it changes nothing.)
    hubspot_events, before = stored_events(world, "hubspot"), writes(world)
    world.poll()
    assert stored_events(world, "hubspot") == hubspot_events
    assert writes(world) == before
    assert int(cursors(world)["hubspot:contacts"]) >= int(first["hubspot:contacts"])

    # It reads from the stored cursor, not from "a minute ago" as a first poll does: with the cursor just past
    # the edit, the sweep finds nothing; without a cursor, it finds the edit.
    set_cursor(world, "hubspot:contacts", str(edited + 1))
    assert poll_workspace(world.db, world.workspace_id).events["hubspot:contacts"] == 0
    assert int(cursors(world)["hubspot:contacts"]) == edited + 1
    set_cursor(world, "hubspot:contacts", None)
    assert poll_workspace(world.db, world.workspace_id).events["hubspot:contacts"] >= 1

    # ...and picks up what changes after it.
    world.hubspot.update_as_user("contacts", contact, {"jobtitle": "Countess"})
    world.poll()
    assert stored_events(world, "hubspot") == hubspot_events + 1
    assert hubspot_value(world, contact, "jobtitle") == "Countess"
    assert affiliation_of(world, accelo_id)["position"] == "Countess"


def test_the_deletion_scan_closes_and_flags_the_link_of_a_record_deleted_in_accelo(world: World) -> None:
    contact, accelo_id, link = linked_contact(world)
    world.accelo.user_delete_contact(accelo_id)  # Accelo sends no webhook for a deletion
    world.settle()
    with world.db.transaction() as session:
        assert session.get(Link, link.id).state == "in_sync"  # type: ignore[union-attr]

    result = poll_workspace(world.db, world.workspace_id)
    assert result.deleted == 1
    world.settle()
    with world.db.transaction() as session:
        closed = session.get(Link, link.id)
        assert closed is not None
        entries = session.scalars(select(LedgerEntry).where(LedgerEntry.link_id == link.id)).all()
    assert (closed.state, closed.flagged) == ("closed", True)
    assert f"Accelo contact {accelo_id}" in (closed.state_reason or "")
    assert world.hubspot.record("contacts", contact) is not None  # the twin is left alone by default
    assert any(entry.action == "link_closed" for entry in entries)
