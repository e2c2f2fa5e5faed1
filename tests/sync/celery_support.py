"""Helpers for end-to-end scenarios processed by real ``interlink worker`` processes (tests/sync/
test_celery_end_to_end.py): the loopback world of tests/jobs/test_celery.py seen as a ``World`` (so the helpers of
test_end_to_end.py apply), and ways to wait for the workers with a deadline instead of draining in-process."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence

from sqlalchemy import func, select

from interlink.models import InboundEvent, LedgerEntry, Link
from interlink.simulators.hubspot.webhooks import sign_headers
from tests.fixtures.celery import WorkerProcess
from tests.fixtures.world import World
from tests.jobs.test_celery import LoopbackWorld
from tests.support.waiting import wait_for
from tests.sync.test_end_to_end import ADA, links

CONVERGE_SECONDS = 30.0


def as_world(loopback: LoopbackWorld) -> World:
    """The loopback world (Interlink's web side in this process, the simulators over loopback HTTP, drains sent to
    Celery on Redis) as a ``World``. Never call its ``settle()`` or ``poll()``: they would drain the inbox in this
    process, and these tests are about the workers doing it."""
    return World(
        db=loopback.web,
        settings=loopback.web.settings,
        app=loopback.app,
        api=loopback.api,
        tenant=loopback.tenant,
        hubspot=loopback.hubspot,
        accelo=loopback.accelo,
    )


def end_at_once(workers: Sequence[WorkerProcess]) -> None:
    """At the end of a test everything has been processed: SIGKILL ends a worker at once, where a warm shutdown
    takes seconds a test suite should not spend."""
    for worker in workers:
        worker.kill()


def logs(workers: Sequence[WorkerProcess]) -> str:
    return "\n".join(f"--- worker {index} ---\n{w.log()[-3000:]}" for index, w in enumerate(workers))


def eventually(
    world: World,
    check: Callable[[], object],
    what: str,
    workers: Sequence[WorkerProcess],
    timeout: float = CONVERGE_SECONDS,
) -> None:
    """Wait for ``check``, then for the world to be quiet, so whatever follows from it (the echo of a write, a
    resync) has been processed too."""
    wait_for(check, timeout=timeout, interval=0.05, what=f"{what}\n{logs(workers)}")
    settle_on_workers(world, workers, what)


def settle_on_workers(world: World, workers: Sequence[WorkerProcess], what: str) -> None:
    """Wait (up to CONVERGE_SECONDS) until the workers have processed every webhook sent so far."""
    wait_for(lambda: quiet(world), timeout=CONVERGE_SECONDS, interval=0.05, what=f"quiet after {what}\n{logs(workers)}")


def quiet(world: World) -> bool:
    """No webhook waiting to be delivered by either simulator, no inbox event waiting or being processed, and
    nothing stored or finished while this looked.

    A delivery counts as pending until Interlink has stored its events, and a worker's writes queue their webhooks
    before it finishes its events; so any chain still in flight shows up in one of the looks, or moves the counts
    between the first and the last."""
    before = _progress(world)
    idle = not _deliveries(world) and not _unfinished_events(world) and not _deliveries(world)
    return idle and _progress(world) == before


def _deliveries(world: World) -> int:
    return world.hubspot.webhooks.pending() + world.accelo.webhooks.deliverer.pending()


def _unfinished_events(world: World) -> int:
    with world.db.reading() as session:
        count = session.scalar(
            select(func.count())
            .select_from(InboundEvent)
            .where(
                InboundEvent.workspace_id == world.workspace_id,
                InboundEvent.status.in_(("pending", "processing")),
            )
        )
    return int(count or 0)


def _progress(world: World) -> tuple[int, int, int]:
    """(events stored, events finished, newest ledger entry): any of them moves when a worker does anything."""
    with world.db.reading() as session:
        events = InboundEvent.workspace_id == world.workspace_id
        stored = session.scalar(select(func.count()).select_from(InboundEvent).where(events))
        finished = session.scalar(
            select(func.count())
            .select_from(InboundEvent)
            .where(events, InboundEvent.status.not_in(("pending", "processing")))
        )
        newest = session.scalar(select(func.max(LedgerEntry.id)))
    return int(stored or 0), int(finished or 0), int(newest or 0)


def ledger_mark(world: World) -> int:
    """The newest ledger entry's id now: entries after it are decisions taken after this point."""
    with world.db.reading() as session:
        return int(session.scalar(select(func.max(LedgerEntry.id))) or 0)


def ledger_since(world: World, mark: int) -> list[LedgerEntry]:
    with world.db.reading() as session:
        entries = list(session.scalars(select(LedgerEntry).where(LedgerEntry.id > mark).order_by(LedgerEntry.id)))
        session.expunge_all()
    return entries


def open_link(world: World, object_type: str, hubspot_id: str) -> Link | None:
    found = [link for link in links(world, object_type) if link.hubspot_id == hubspot_id]
    return found[0] if found else None


def linked_contact(world: World, workers: Sequence[WorkerProcess], **properties: str) -> tuple[str, int, Link]:
    """A HubSpot contact with its company, made as a user would and synced to Accelo by the workers (the pull rules
    let it through); returns (HubSpot id, Accelo id, link) once everything it set off has been processed."""
    company = world.hubspot.create_as_user("companies", {"name": f"Company of {properties.get('email', 'Ada')}"})["id"]
    contact = str(world.hubspot.create_as_user("contacts", {**ADA, **properties})["id"])
    world.hubspot.associate_as_user("contacts", contact, "companies", company)
    eventually(
        world,
        lambda: (link := open_link(world, "contact", contact)) is not None and link.state == "in_sync",
        f"HubSpot contact {contact} to be linked",
        workers,
    )
    link = open_link(world, "contact", contact)
    assert link is not None
    return contact, int(link.accelo_id or 0), link


def redeliver_hubspot(world: World, events: list[dict[str, object]], attempt: int) -> None:
    """Send a batch of events HubSpot delivered before again, as its retry ``attempt`` (what HubSpot does when it
    did not see our answer in time): same events, new signature."""
    settings = world.hubspot.webhooks.settings
    body = json.dumps([{**event, "attemptNumber": attempt} for event in events], separators=(",", ":")).encode()
    url = f"{world.settings.public_base_url}/webhooks/hubspot"
    headers = sign_headers(settings.client_secret, url, body, int(time.time() * 1000))
    response = world.api.post("/webhooks/hubspot", content=body, headers=headers)
    assert response.status_code == 200, response.text


def claimants(world: World, object_type: str, object_id: str) -> set[str]:
    """The worker processes (host:pid) holding events about this record right now."""
    with world.db.reading() as session:
        return {
            claimed_by
            for claimed_by in session.scalars(
                select(InboundEvent.claimed_by).where(
                    InboundEvent.workspace_id == world.workspace_id,
                    InboundEvent.object_type == object_type,
                    InboundEvent.object_id == object_id,
                    InboundEvent.status == "processing",
                )
            )
            if claimed_by
        }
