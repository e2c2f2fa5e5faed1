"""An inbox handler for source ``probe``, used to test the inbox machinery itself.

It records one ledger row per event it processes, in the same transaction that finishes the event, so
"processed exactly once" is visible as exactly one ledger row per event. ``hold_seconds`` in the payload
keeps the worker busy on the first ``hold_attempts`` attempts (to kill it mid-task); ``fail`` makes the
handler raise.
"""

from __future__ import annotations

import os
import time

from interlink.db import Database
from interlink.inbox import handlers
from interlink.inbox.service import DONE, ClaimedBatch, finish_events
from interlink.models import LedgerEntry


@handlers.register("probe")
def handle_probe(db: Database, batch: ClaimedBatch) -> None:
    for event in batch.events:
        if event.payload.get("fail"):
            raise RuntimeError(f"probe {event.object_id} asked to fail")
        hold_attempts = int(str(event.payload.get("hold_attempts", 1)))
        if event.attempts <= hold_attempts:
            time.sleep(float(str(event.payload.get("hold_seconds", 0))))
    with db.transaction() as session:
        for event in batch.events:
            session.add(
                LedgerEntry(
                    workspace_id=batch.workspace_id,
                    action="probe_processed",
                    event_ids=[event.id],
                    details={"pid": os.getpid(), "attempt": event.attempts},
                )
            )
        finish_events(session, batch, dict.fromkeys(batch.event_ids, DONE))
